//! Scoring: phone error rate by edit-distance alignment, and frame accuracy.

use crate::features::NUM_CLASSES;

use super::greedy::argmax;

/// Edit operations between a reference and a hypothesis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ErrorCounts {
    pub substitutions: usize,
    pub deletions: usize,
    pub insertions: usize,
    pub reference_len: usize,
}

impl ErrorCounts {
    /// Total errors.
    pub fn errors(&self) -> usize {
        self.substitutions + self.deletions + self.insertions
    }

    /// Phone error rate in percent: `100 (S + D + I) / N` (0 for an empty reference).
    pub fn per(&self) -> f64 {
        if self.reference_len == 0 {
            0.0
        } else {
            100.0 * self.errors() as f64 / self.reference_len as f64
        }
    }

    /// Accumulates another utterance (corpus PER is total errors over total reference length).
    pub fn add(&mut self, other: &ErrorCounts) {
        self.substitutions += other.substitutions;
        self.deletions += other.deletions;
        self.insertions += other.insertions;
        self.reference_len += other.reference_len;
    }
}

/// Minimum-edit-distance alignment (unit costs). Among alignments of equal total cost the one
/// with most substitutions is counted, as NIST sclite does, so `S + D + I` is always the distance.
pub fn align(reference: &[u8], hypothesis: &[u8]) -> ErrorCounts {
    let n = reference.len();
    let m = hypothesis.len();
    // cell = (cost, substitutions, deletions, insertions) of the best alignment of the prefixes.
    type Cell = (usize, usize, usize, usize);
    let mut prev: Vec<Cell> = (0..=m).map(|j| (j, 0, 0, j)).collect();
    let mut cur: Vec<Cell> = vec![(0, 0, 0, 0); m + 1];
    for i in 1..=n {
        cur[0] = (i, 0, i, 0);
        for j in 1..=m {
            let same = reference[i - 1] == hypothesis[j - 1];
            let d = prev[j - 1];
            let diag = if same {
                d
            } else {
                (d.0 + 1, d.1 + 1, d.2, d.3)
            };
            let up = prev[j];
            let del = (up.0 + 1, up.1, up.2 + 1, up.3);
            let left = cur[j - 1];
            let ins = (left.0 + 1, left.1, left.2, left.3 + 1);
            let mut best = diag;
            for cand in [del, ins] {
                if cand.0 < best.0 || (cand.0 == best.0 && cand.1 > best.1) {
                    best = cand;
                }
            }
            cur[j] = best;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let (_, substitutions, deletions, insertions) = prev[m];
    ErrorCounts {
        substitutions,
        deletions,
        insertions,
        reference_len: n,
    }
}

/// Frames whose argmax class (and argmax phone) matches the target.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameAccuracy {
    pub frames: usize,
    /// Frames whose argmax is the target class (phone and third).
    pub correct_states: usize,
    /// Frames whose argmax class is some state of the target phone.
    pub correct_phones: usize,
}

impl FrameAccuracy {
    /// Scores `num_frames x 117` log posteriors (or any scores) against frame targets.
    pub fn measure(log_posteriors: &[f32], targets: &[u32]) -> Self {
        let mut acc = FrameAccuracy::default();
        for (row, &t) in log_posteriors.chunks_exact(NUM_CLASSES).zip(targets) {
            let best = argmax(row) as u32;
            acc.frames += 1;
            acc.correct_states += usize::from(best == t);
            acc.correct_phones += usize::from(best / 3 == t / 3);
        }
        acc
    }

    pub fn add(&mut self, other: &FrameAccuracy) {
        self.frames += other.frames;
        self.correct_states += other.correct_states;
        self.correct_phones += other.correct_phones;
    }

    /// State-level frame accuracy in percent.
    pub fn state_accuracy(&self) -> f64 {
        100.0 * self.correct_states as f64 / self.frames.max(1) as f64
    }
}
