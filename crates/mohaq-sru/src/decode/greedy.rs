//! Greedy decoding: the best class per frame, folded to phones, repeats merged.
//!
//! A cheap baseline and a sanity check for the Viterbi decoder; it has no duration model or
//! language model, so it inserts short spurious phones where the argmax flickers.

use crate::features::NUM_CLASSES;

/// Phone ids (39-set) of the per-frame argmax of `num_frames x 117` log posteriors, merged.
pub fn greedy_decode(log_posteriors: &[f32], num_frames: usize) -> Vec<u8> {
    let mut phones: Vec<u8> = log_posteriors
        .chunks_exact(NUM_CLASSES)
        .take(num_frames)
        .map(|row| (argmax(row) / 3) as u8)
        .collect();
    phones.dedup();
    phones
}

/// Index of the largest value (the first one on ties; NaN never wins).
///
/// It runs on every frame of every candidate (frame accuracy), so a row without NaN takes two
/// passes that vectorize, the maximum in independent lanes (the maximum does not depend on the
/// order), then the first index holding it; a row with a NaN takes the scalar scan that defines
/// the result.
pub fn argmax(row: &[f32]) -> usize {
    const LANES: usize = 8;
    let mut lanes = [f32::NEG_INFINITY; LANES];
    let mut nan = [false; LANES];
    let chunks = row.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for ((m, n), &v) in lanes.iter_mut().zip(&mut nan).zip(chunk) {
            *m = if v > *m { v } else { *m };
            *n |= v.is_nan();
        }
    }
    let mut max = lanes
        .iter()
        .fold(f32::NEG_INFINITY, |a, &b| if b > a { b } else { a });
    let mut any_nan = nan.iter().any(|&n| n);
    for &v in tail {
        max = if v > max { v } else { max };
        any_nan |= v.is_nan();
    }
    if any_nan {
        return argmax_scan(row);
    }
    row.iter().position(|&v| v == max).unwrap_or(0)
}

/// The definition of [`argmax`]: a scan keeping the first strictly larger value, moving off a NaN.
fn argmax_scan(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, v) in row.iter().enumerate() {
        if *v > row[best] || row[best].is_nan() {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Values from a small set (ties are common), signed zeros, infinities and NaN.
    fn value() -> impl Strategy<Value = f32> {
        prop_oneof![
            6 => (-4i32..4).prop_map(|v| v as f32 * 0.25),
            1 => Just(-0.0f32),
            1 => Just(f32::NEG_INFINITY),
            1 => Just(f32::INFINITY),
            1 => Just(f32::NAN),
        ]
    }

    proptest! {
        #[test]
        fn argmax_is_the_scan_it_is_defined_by(row in prop::collection::vec(value(), 0..130)) {
            prop_assert_eq!(argmax(&row), argmax_scan(&row));
        }
    }
}
