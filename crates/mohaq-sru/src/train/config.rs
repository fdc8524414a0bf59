//! Training hyper-parameters, read from the `[train]` table of a model config file.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::ModelError;

/// Optimiser, schedule and curriculum settings (METHOD §3 defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Maximum number of epochs.
    pub epochs: usize,
    /// Utterances (or curriculum chunks) per batch.
    pub batch_size: usize,
    pub learning_rate: f64,
    pub weight_decay: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Newbob: halve the learning rate when the relative dev improvement is below this.
    pub newbob_threshold: f64,
    /// Stop early once the learning rate fell below this (0 = never).
    pub min_learning_rate: f64,
    /// Curriculum: chunk length of the first epoch, in frames.
    pub curriculum_start: usize,
    /// Curriculum: factor applied per epoch.
    pub curriculum_factor: usize,
    /// Curriculum: longest chunk.
    pub curriculum_max: usize,
    /// Seed of initialisation, shuffling and dropout.
    pub seed: u64,
    /// Train on Kathleen + TIMIT dr1–dr4 (true) or TIMIT dr1–dr4 only.
    pub include_kathleen: bool,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 24,
            batch_size: 8,
            learning_rate: 1e-3,
            weight_decay: 1e-7,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            newbob_threshold: 0.001,
            min_learning_rate: 0.0,
            curriculum_start: 100,
            curriculum_factor: 2,
            curriculum_max: 1000,
            seed: 1,
            include_kathleen: true,
        }
    }
}

#[derive(Deserialize)]
struct FileWithTrain {
    #[serde(default)]
    train: TrainConfig,
}

impl TrainConfig {
    /// Reads the `[train]` table (all keys optional) of a config file.
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        Self::from_toml_str(&crate::model::config::read_config_text(path)?, path)
    }

    pub fn from_toml_str(text: &str, path: &Path) -> Result<Self, ModelError> {
        // Other tables (e.g. `[model]`) are someone else's business: parse loosely first.
        let value: toml::Table = toml::from_str(text).map_err(|e| ModelError::Config {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let mut only = toml::Table::new();
        if let Some(t) = value.get("train") {
            only.insert("train".to_string(), t.clone());
        }
        let file: FileWithTrain =
            only.try_into()
                .map_err(|e: toml::de::Error| ModelError::Config {
                    path: path.to_path_buf(),
                    message: format!("table [train]: {e}"),
                })?;
        let c = file.train;
        let bad = |m: &str| {
            Err(ModelError::Config {
                path: path.to_path_buf(),
                message: format!("table [train]: {m}"),
            })
        };
        if c.batch_size == 0 || c.curriculum_start == 0 || c.curriculum_max == 0 {
            return bad("batch_size, curriculum_start and curriculum_max must be positive");
        }
        if c.curriculum_factor == 0 {
            return bad("curriculum_factor must be positive");
        }
        if !(c.learning_rate > 0.0 && c.learning_rate.is_finite()) {
            return bad("learning_rate must be positive");
        }
        Ok(c)
    }

    /// Chunk length used in `epoch` (0-based): start · factor^epoch, at most the maximum.
    pub fn chunk_length(&self, epoch: usize) -> usize {
        let mut len = self.curriculum_start;
        for _ in 0..epoch {
            len = len.saturating_mul(self.curriculum_factor);
            if len >= self.curriculum_max {
                break;
            }
        }
        len.min(self.curriculum_max)
    }
}
