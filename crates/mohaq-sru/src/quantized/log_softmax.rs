//! The output layer's bias and log-softmax, bit for bit the scalar formula, with the
//! exponentials vectorized.
//!
//! Every candidate ends with this step (an exhaustive front runs it for every candidate, while
//! earlier steps are shared), and its `classes` C-library `expf` calls per frame were a call the
//! compiler cannot vectorize. [`crate::elementwise::expf::expf`] returns the same floats, so the exponentials
//! run a block at a time; the maximum and the sum keep the scalar order (the maximum does not
//! depend on it, the sum does), so the log posteriors are unchanged to the bit.

use mohaq_quant::{vectorized, SimdLevel};

use crate::elementwise::expf::expf;

/// Adds `bias` to every row of `logits` (`bias.len()` classes per row) and replaces each row by
/// its log-softmax: `v − (m + ln Σ exp(v − m))` with `m` the row's maximum.
pub fn bias_log_softmax(logits: &mut [f32], bias: &[f32]) {
    bias_log_softmax_at(SimdLevel::detect(), logits, bias);
}

vectorized! {
    /// [`bias_log_softmax`] on a chosen instruction set (every level gives the same bits).
    pub fn bias_log_softmax_at(logits: &mut [f32], bias: &[f32]) {
        let classes = bias.len();
        let mut exps = vec![0f32; classes];
        for row in logits.chunks_exact_mut(classes) {
            let mut m = f32::NEG_INFINITY;
            for (v, b) in row.iter_mut().zip(bias) {
                *v += b;
                m = m.max(*v);
            }
            for (e, v) in exps.iter_mut().zip(row.iter()) {
                *e = expf(v - m);
            }
            let lse = m + exps.iter().sum::<f32>().ln();
            row.iter_mut().for_each(|v| *v -= lse);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The step as first written, with the C library's `expf`.
    fn reference(logits: &mut [f32], bias: &[f32]) {
        for row in logits.chunks_mut(bias.len()) {
            let mut m = f32::NEG_INFINITY;
            for (v, b) in row.iter_mut().zip(bias) {
                *v += b;
                m = m.max(*v);
            }
            let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f32>().ln();
            row.iter_mut().for_each(|v| *v -= lse);
        }
    }

    proptest! {
        /// Every instruction-set copy gives the reference's bits, with spreads from flat rows to
        /// rows whose small entries underflow.
        #[test]
        fn every_simd_level_matches_the_scalar_log_softmax(
            values in prop::collection::vec(-1f32..1.0, 1..600),
            classes in 1usize..130,
            gain in prop::sample::select(vec![0.1f32, 5.0, 80.0, 400.0]),
        ) {
            let rows = values.len() / classes;
            prop_assume!(rows > 0);
            let logits: Vec<f32> = values[..rows * classes].iter().map(|v| v * gain).collect();
            let bias: Vec<f32> = (0..classes).map(|i| (i as f32 * 0.37).sin()).collect();
            let mut expected = logits.clone();
            reference(&mut expected, &bias);
            for level in SimdLevel::available() {
                let mut got = logits.clone();
                bias_log_softmax_at(level, &mut got, &bias);
                let same = got.iter().zip(&expected).all(|(a, b)| a.to_bits() == b.to_bits());
                prop_assert!(same, "{:?}: {:?} vs {:?}", level, got, expected);
            }
        }
    }
}
