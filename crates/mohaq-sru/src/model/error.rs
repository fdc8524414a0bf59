//! Typed errors of the model: every variant names the file (or tensor) and the problem.

use std::path::PathBuf;

/// Errors raised while reading configs and weights or running the model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid model config {path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error("weights file {path}: {message}")]
    Weights { path: PathBuf, message: String },
    #[error("weights file {path}: tensor `{name}` is missing")]
    MissingTensor { path: PathBuf, name: String },
    #[error(
        "weights file {path}: tensor `{name}` has shape {found:?}, the config needs {expected:?}"
    )]
    ShapeMismatch {
        path: PathBuf,
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    #[error("weights file {path}: tensor `{name}` holds a non-finite value (NaN or inf) at index {index}")]
    NonFinite {
        path: PathBuf,
        name: String,
        index: usize,
    },
    #[error("input has dimension {found}, the model expects {expected}")]
    InputDim { expected: usize, found: usize },
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
}
