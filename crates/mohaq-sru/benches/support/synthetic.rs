//! The synthetic utterances the model benchmark and the `eval_candidate` example share, so that
//! the example times exactly what `dev_eval` measures.

use mohaq_sru::features::Utterance;

/// Utterance `i` of `frames` frames: deterministic 23-dimensional features in [−1, 1) and
/// targets cycling over `classes`.
pub fn utterance(i: usize, frames: usize, classes: usize) -> Utterance {
    let feats = (0..frames * 23)
        .map(|k| (((k * 31 + i * 7) % 97) as f32 / 48.0) - 1.0)
        .collect();
    let targets = (0..frames)
        .map(|t| ((t / 7 + i) % classes) as u32)
        .collect();
    Utterance {
        id: format!("u{i}"),
        speaker: "s".into(),
        dim: 23,
        feats,
        targets,
        phones: (0..frames / 10).map(|t| (t % 39) as u8).collect(),
    }
}
