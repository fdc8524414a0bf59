//! Checkpoints: weights, Adam moments, RNG state, epoch, learning rate and history in ONE
//! safetensors file (state as JSON metadata), written atomically, so that a killed run resumes
//! exactly where its last completed epoch ended.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::TrainError;
use super::kind::TrainableConfig;
use crate::model::params::{read_tensors, write_tensors};
use crate::model::ModelConfig;

/// Per-epoch record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochSummary {
    pub epoch: usize,
    pub learning_rate: f64,
    pub chunk_length: usize,
    pub train_loss: f64,
    pub train_frame_acc: f64,
    pub dev_loss: f64,
    pub dev_frame_acc: f64,
    /// Phone error rate in percent (None when no decoder was given).
    pub dev_per: Option<f64>,
    pub frames_per_second: f64,
    pub seconds: f64,
}

/// Scalar training state stored next to the tensors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// Number of completed epochs.
    pub epochs_done: usize,
    pub learning_rate: f64,
    pub adam_step: u64,
    /// RNG: seed, stream and word position of the ChaCha8 generator after the last epoch.
    pub rng_seed: [u8; 32],
    pub rng_stream: u64,
    pub rng_word_pos: u128,
    /// Best dev frame error so far (newbob reference) and the epoch that reached it.
    pub best_dev_error: f64,
    pub best_epoch: usize,
    pub history: Vec<EpochSummary>,
}

const STATE_KEY: &str = "train_state";
const CONFIG_KEY: &str = "model_config";

/// Writes a checkpoint atomically (any model kind: its tensors, the Adam moments, the state).
pub fn save<C: TrainableConfig>(
    path: &Path,
    config: &C,
    params: &C::Params,
    moments: &[(Vec<f32>, Vec<f32>)],
    state: &TrainState,
) -> Result<(), TrainError> {
    let err = |m: String| TrainError::Checkpoint {
        path: path.to_path_buf(),
        message: m,
    };
    let mut tensors = C::tensors(params);
    for (i, (m, v)) in moments.iter().enumerate() {
        tensors.push((format!("adam.m.{i}"), vec![m.len()], m));
        tensors.push((format!("adam.v.{i}"), vec![v.len()], v));
    }
    let mut meta = HashMap::new();
    meta.insert(
        STATE_KEY.to_string(),
        serde_json::to_string(state).map_err(|e| err(e.to_string()))?,
    );
    meta.insert(
        CONFIG_KEY.to_string(),
        serde_json::to_string(config).map_err(|e| err(e.to_string()))?,
    );
    write_tensors(path, &tensors, meta)?;
    Ok(())
}

/// A checkpoint read back.
pub struct Checkpoint<C: TrainableConfig = ModelConfig> {
    pub params: C::Params,
    pub moments: Vec<(Vec<f32>, Vec<f32>)>,
    pub state: TrainState,
}

/// Reads a checkpoint; the model tensors are checked against `config`.
pub fn load<C: TrainableConfig>(path: &Path, config: &C) -> Result<Checkpoint<C>, TrainError> {
    let err = |m: String| TrainError::Checkpoint {
        path: path.to_path_buf(),
        message: m,
    };
    let (mut map, meta) = read_tensors(path)?;
    if let Some(c) = meta.get(CONFIG_KEY) {
        let saved: C = serde_json::from_str(c).map_err(|e| err(e.to_string()))?;
        if saved != *config {
            return Err(err(format!(
                "was written for config {saved:?}, not {config:?}"
            )));
        }
    }
    // The moments first: what is left are the model's tensors.
    let mut moments = Vec::new();
    while let (Some((_, m)), Some((_, v))) = (
        map.remove(&format!("adam.m.{}", moments.len())),
        map.remove(&format!("adam.v.{}", moments.len())),
    ) {
        moments.push((m, v));
    }
    let params = config.params_from_tensors(map, path)?;
    let state: TrainState = serde_json::from_str(
        meta.get(STATE_KEY)
            .ok_or_else(|| err(format!("metadata `{STATE_KEY}` is missing")))?,
    )
    .map_err(|e| err(format!("metadata `{STATE_KEY}`: {e}")))?;
    Ok(Checkpoint {
        params,
        moments,
        state,
    })
}
