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
pub fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, v) in row.iter().enumerate() {
        if *v > row[best] || row[best].is_nan() {
            best = i;
        }
    }
    best
}
