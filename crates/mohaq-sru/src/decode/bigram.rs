//! Phone bigram language model, estimated on the training transcripts.

use crate::data::phones::NUM_PHONES;
use crate::features::Dataset;

/// Additive smoothing: every bigram is seen this many extra times, so no transition is impossible.
pub const DEFAULT_SMOOTHING: f64 = 0.5;

/// `P(first phone)`, `P(next | previous)` and `P(end | last phone)` as natural logs.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PhoneBigram {
    /// `log P(p | <s>)`, length 39.
    pub log_start: Vec<f32>,
    /// `log P(next | previous)` at `previous * 39 + next`.
    pub log_trans: Vec<f32>,
    /// `log P(</s> | p)`, length 39.
    pub log_end: Vec<f32>,
}

impl PhoneBigram {
    /// Estimates the bigram on the reference phone sequences of a training set.
    pub fn estimate(train: &Dataset) -> Self {
        Self::from_sequences(
            train.utterances.iter().map(|u| u.phones.as_slice()),
            DEFAULT_SMOOTHING,
        )
    }

    /// Estimates from phone id sequences with additive smoothing `alpha`.
    ///
    /// The sentence end is an extra outcome of each row, so every row (and the start row) sums to 1.
    pub fn from_sequences<'a>(sequences: impl IntoIterator<Item = &'a [u8]>, alpha: f64) -> Self {
        let n = NUM_PHONES;
        let mut start = vec![0f64; n];
        let mut trans = vec![0f64; n * n];
        let mut end = vec![0f64; n];
        for seq in sequences {
            let valid: Vec<usize> = seq.iter().map(|&p| p as usize).filter(|&p| p < n).collect();
            let (Some(&first), Some(&last)) = (valid.first(), valid.last()) else {
                continue;
            };
            start[first] += 1.0;
            end[last] += 1.0;
            for pair in valid.windows(2) {
                trans[pair[0] * n + pair[1]] += 1.0;
            }
        }
        let log_normalise = |counts: &[f64]| -> Vec<f32> {
            let total: f64 = counts.iter().map(|c| c + alpha).sum();
            counts
                .iter()
                .map(|c| ((c + alpha) / total).ln() as f32)
                .collect()
        };
        let log_start = log_normalise(&start);
        let mut log_trans = Vec::with_capacity(n * n);
        let mut log_end = Vec::with_capacity(n);
        for prev in 0..n {
            let mut row: Vec<f64> = trans[prev * n..(prev + 1) * n].to_vec();
            row.push(end[prev]);
            let logs = log_normalise(&row);
            log_trans.extend_from_slice(&logs[..n]);
            log_end.push(logs[n]);
        }
        PhoneBigram {
            log_start,
            log_trans,
            log_end,
        }
    }

    /// A bigram with every transition equally likely (no language model).
    pub fn uniform() -> Self {
        Self::from_sequences(std::iter::empty(), 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_distributions_and_counts_matter() {
        let seqs: [&[u8]; 3] = [&[30, 5, 1, 30], &[30, 5, 2, 30], &[30, 5, 1, 30]];
        let lm = PhoneBigram::from_sequences(seqs, 0.5);
        let sum = |v: &[f32]| v.iter().map(|l| f64::from(*l).exp()).sum::<f64>();
        assert!((sum(&lm.log_start) - 1.0).abs() < 1e-5);
        for prev in 0..NUM_PHONES {
            let row = &lm.log_trans[prev * NUM_PHONES..(prev + 1) * NUM_PHONES];
            assert!((sum(row) + f64::from(lm.log_end[prev]).exp() - 1.0).abs() < 1e-5);
        }
        assert!(lm.log_trans[5 * NUM_PHONES + 1] > lm.log_trans[5 * NUM_PHONES + 2]);
        assert!(lm.log_trans[5 * NUM_PHONES + 2] > lm.log_trans[5 * NUM_PHONES + 3]);
        assert!(lm.log_start[30] > lm.log_start[5]);
    }
}
