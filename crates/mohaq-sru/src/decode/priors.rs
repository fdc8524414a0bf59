//! State priors: how often each frame class occurs in the training targets.
//!
//! A hybrid recogniser turns the network's posteriors `P(state | x)` into scaled likelihoods
//! `P(x | state) ∝ P(state | x) / P(state)` before decoding; without it frequent states (silence)
//! swamp the search.

use crate::features::{Dataset, NUM_CLASSES};

/// `log P(state)` for the 117 frame classes.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StatePriors {
    pub log_priors: Vec<f32>,
}

impl StatePriors {
    /// Relative frequencies of the training targets, add-one smoothed (no state has prior 0).
    pub fn from_dataset(train: &Dataset) -> Self {
        Self::from_targets(train.utterances.iter().map(|u| u.targets.as_slice()))
    }

    /// As [`StatePriors::from_dataset`], from target sequences. Classes past 116 are ignored.
    pub fn from_targets<'a>(targets: impl IntoIterator<Item = &'a [u32]>) -> Self {
        let mut counts = vec![1f64; NUM_CLASSES];
        for seq in targets {
            for &t in seq {
                if let Some(c) = counts.get_mut(t as usize) {
                    *c += 1.0;
                }
            }
        }
        let total: f64 = counts.iter().sum();
        StatePriors {
            log_priors: counts.iter().map(|c| (c / total).ln() as f32).collect(),
        }
    }

    /// Equal priors (decoding then uses the posteriors as they are).
    pub fn uniform() -> Self {
        StatePriors {
            log_priors: vec![-(NUM_CLASSES as f32).ln(); NUM_CLASSES],
        }
    }
}
