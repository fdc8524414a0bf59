//! Progress of a beacon's retraining in the log. A QAT run of a paper-size model takes minutes
//! per epoch and runs inside a search (or a Slurm task) where no progress bar is drawn, so it
//! reports through `tracing`: when each epoch starts, a line about every tenth of its batches,
//! and each epoch's result.

use std::path::Path;

use mohaq_sru::train::{BatchProgress, EpochSummary, TrainObserver};

/// Logs a retraining run's progress at INFO level, prefixed with what is being retrained.
pub struct RetrainLog {
    what: String,
    epochs: usize,
    batches: usize,
}

impl RetrainLog {
    /// `what`: the beacon's widths, as the search log names it.
    pub fn new(what: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            epochs: 0,
            batches: 0,
        }
    }

    /// Whether batch `batch` (1-based) of `batches` ends a tenth of the epoch.
    fn ends_a_tenth(batch: usize, batches: usize) -> bool {
        let step = batches.div_ceil(10).max(1);
        batch.is_multiple_of(step) && batch < batches
    }
}

impl TrainObserver for RetrainLog {
    fn epoch_started(&mut self, epoch: usize, epochs: usize, batches: usize, lr: f64) {
        self.epochs = epochs;
        self.batches = batches;
        tracing::info!(
            beacon = %self.what,
            "QAT epoch {}/{epochs}: {batches} batches, lr {lr:.3e}",
            epoch + 1
        );
    }

    fn batch_done(&mut self, p: &BatchProgress) {
        // The trainer counts epochs and batches from 0.
        if Self::ends_a_tenth(p.batch + 1, p.batches) {
            tracing::info!(
                beacon = %self.what,
                "QAT epoch {}/{}: batch {}/{}, loss {:.3}, {:.0} frames/s",
                p.epoch + 1,
                self.epochs,
                p.batch + 1,
                p.batches,
                p.loss,
                p.frames_per_second
            );
        }
    }

    fn epoch_finished(&mut self, s: &EpochSummary) {
        tracing::info!(
            beacon = %self.what,
            "QAT epoch {}/{} done in {:.0} s: train loss {:.3}, dev frame accuracy {:.2} %",
            s.epoch + 1,
            self.epochs,
            s.seconds,
            s.train_loss,
            100.0 * s.dev_frame_acc
        );
    }

    fn resumed(&mut self, epochs_done: usize, path: &Path) {
        tracing::info!(
            beacon = %self.what,
            "QAT resumed after {epochs_done} epoch(s) from {}",
            path.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RetrainLog;

    #[test]
    fn about_ten_lines_per_epoch_and_none_at_its_end() {
        for batches in [1, 7, 10, 95, 1000] {
            let lines = (1..=batches)
                .filter(|&b| RetrainLog::ends_a_tenth(b, batches))
                .count();
            assert!(lines <= 9, "{batches} batches: {lines} lines");
            assert!(!RetrainLog::ends_a_tenth(batches, batches));
        }
        assert_eq!(
            (1..=1000)
                .filter(|&b| RetrainLog::ends_a_tenth(b, 1000))
                .count(),
            9
        );
    }
}
