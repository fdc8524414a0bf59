//! Errors of exported models and recognition; each names the file at fault.

use std::path::PathBuf;

use crate::quantized::QuantizedError;

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// A file that is not what it should be (missing, malformed, inconsistent).
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },
    /// Input that does not fit the model.
    #[error("{0}")]
    Input(String),
    /// Quantizing the weights or running the integer engine failed.
    #[error("{context}: {source}")]
    Engine {
        context: &'static str,
        #[source]
        source: QuantizedError,
    },
}

impl DeployError {
    pub(crate) fn file(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        Self::File {
            path: path.into(),
            message: message.to_string(),
        }
    }

    pub(crate) fn engine(context: &'static str) -> impl FnOnce(QuantizedError) -> Self {
        move |source| Self::Engine { context, source }
    }
}
