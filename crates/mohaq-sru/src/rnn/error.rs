//! Typed errors of the LSTM/GRU models: each names the file and the tensor or key.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum RnnError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid model config {path}: {message}")]
    Config { path: PathBuf, message: String },
    /// Every problem of a state_dict at once (missing, extra, mis-shaped, non-finite tensors),
    /// one per line, so a user fixes them in one round.
    #[error("state_dict {path} does not fit the architecture `{arch}`:\n  {}", problems.join("\n  "))]
    Import {
        path: PathBuf,
        arch: String,
        problems: Vec<String>,
    },
    #[error("weights file {path}: {message}")]
    Weights { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Matrix { path: PathBuf, message: String },
    #[error("input: {0}")]
    Input(String),
    #[error("quantization: {0}")]
    Quant(#[from] mohaq_quant::QuantError),
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
}
