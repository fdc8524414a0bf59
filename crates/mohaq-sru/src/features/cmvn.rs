//! Per-speaker mean and variance normalisation (the pytorch-kaldi recipe's CMVN).
//!
//! Each speaker's frames are shifted to zero mean and scaled to unit variance per coefficient,
//! which removes most of the channel and vocal-tract offset between speakers.

use std::collections::BTreeMap;

/// Smallest variance used as a divisor: a constant coefficient is centred, not blown up.
const VARIANCE_FLOOR: f64 = 1e-10;

/// Mean and inverse standard deviation per coefficient.
#[derive(Clone, Debug, PartialEq)]
pub struct CmvnStats {
    pub mean: Vec<f64>,
    pub inv_std: Vec<f64>,
}

/// Running sums of frames, so statistics can be gathered a block at a time (a long recording
/// streamed): adding the frames in blocks gives the same statistics, bit for bit, as adding
/// them at once.
#[derive(Clone, Debug)]
pub struct CmvnSums {
    sum: Vec<f64>,
    sum_sq: Vec<f64>,
    count: usize,
}

impl CmvnSums {
    pub fn new(dim: usize) -> Self {
        Self {
            sum: vec![0f64; dim],
            sum_sq: vec![0f64; dim],
            count: 0,
        }
    }

    /// Adds the frames of a row-major `frames x dim` matrix.
    pub fn add(&mut self, matrix: &[f32]) {
        for row in matrix.chunks_exact(self.sum.len()) {
            for ((s, q), v) in self.sum.iter_mut().zip(&mut self.sum_sq).zip(row) {
                let v = f64::from(*v);
                *s += v;
                *q += v * v;
            }
            self.count += 1;
        }
    }

    /// Mean and inverse standard deviation of the frames added.
    pub fn stats(&self) -> CmvnStats {
        let n = self.count.max(1) as f64;
        let mean: Vec<f64> = self.sum.iter().map(|s| s / n).collect();
        let inv_std = self
            .sum_sq
            .iter()
            .zip(&mean)
            .map(|(q, m)| 1.0 / (q / n - m * m).max(VARIANCE_FLOOR).sqrt())
            .collect();
        CmvnStats { mean, inv_std }
    }
}

impl CmvnStats {
    /// Statistics of a set of row-major `frames x dim` matrices.
    pub fn estimate<'a>(dim: usize, matrices: impl IntoIterator<Item = &'a [f32]>) -> CmvnStats {
        let mut sums = CmvnSums::new(dim);
        for m in matrices {
            sums.add(m);
        }
        sums.stats()
    }

    /// Normalises a row-major matrix in place.
    pub fn apply(&self, matrix: &mut [f32]) {
        let dim = self.mean.len();
        for row in matrix.chunks_exact_mut(dim) {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.inv_std) {
                *v = ((f64::from(*v) - m) * s) as f32;
            }
        }
    }
}

/// Normalises every matrix with the statistics of its speaker. `items` yields
/// `(speaker, features)`; speakers are processed in sorted order so the result is deterministic.
pub fn normalize_per_speaker(dim: usize, items: &mut [(&str, &mut Vec<f32>)]) {
    let mut by_speaker: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, (speaker, _)) in items.iter().enumerate() {
        by_speaker.entry(*speaker).or_default().push(i);
    }
    for indices in by_speaker.values() {
        let stats = CmvnStats::estimate(dim, indices.iter().map(|&i| items[i].1.as_slice()));
        for &i in indices {
            stats.apply(items[i].1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn normalised_speaker_has_zero_mean_unit_variance(
            values in proptest::collection::vec(-50f32..50.0, 6..60),
            offset in -100f32..100.0,
        ) {
            let dim = 3;
            let n = values.len() / dim * dim;
            let mut a: Vec<f32> = values[..n].to_vec();
            let mut b: Vec<f32> = values[..n].iter().map(|v| v * 2.0 + offset).collect();
            {
                let mut items = [("s", &mut a), ("t", &mut b)];
                normalize_per_speaker(dim, &mut items);
            }
            for m in [&a, &b] {
                let stats = CmvnStats::estimate(dim, [m.as_slice()]);
                for (mean, inv) in stats.mean.iter().zip(&stats.inv_std) {
                    prop_assert!(mean.abs() < 1e-4);
                    // Constant columns stay constant (variance floor), others become unit variance.
                    prop_assert!((inv - 1.0).abs() < 1e-3 || *inv > 1e3);
                }
            }
            // The affine speaker difference is removed entirely.
            for (x, y) in a.iter().zip(&b) {
                prop_assert!((x - y).abs() < 1e-3);
            }
        }
    }
}
