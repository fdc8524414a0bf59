//! Typed errors of training.

use std::path::PathBuf;

use crate::model::ModelError;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Rnn(#[from] crate::rnn::RnnError),
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
    #[error(
        "loss became NaN/inf in epoch {epoch}, batch {batch}: training stopped; the last good \
         checkpoint is {}",
        checkpoint.as_ref().map_or("(none yet)".to_string(), |p| p.display().to_string())
    )]
    NonFiniteLoss {
        epoch: usize,
        batch: usize,
        checkpoint: Option<PathBuf>,
    },
    #[error("checkpoint {path}: {message}")]
    Checkpoint { path: PathBuf, message: String },
    #[error("training data: {0}")]
    Data(String),
    #[error("data loading: {0}")]
    Load(String),
    #[error("decoder tuning: {0}")]
    Tuning(String),
}
