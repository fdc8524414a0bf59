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
    /// An error from a lower layer whose message already names the file (printed as it is, so
    /// the path does not appear twice).
    #[error("{0}")]
    Named(String),
    /// Quantizing the weights or running the integer engine failed.
    #[error("{context}: {source}")]
    Engine {
        context: &'static str,
        #[source]
        source: QuantizedError,
    },
}

impl DeployError {
    /// `path: message`, or the message alone when it already names `path`.
    pub(crate) fn file(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        let (path, message) = (path.into(), message.to_string());
        if message.contains(&path.display().to_string()) {
            return Self::Named(message);
        }
        Self::File { path, message }
    }

    pub(crate) fn engine(context: &'static str) -> impl FnOnce(QuantizedError) -> Self {
        move |source| Self::Engine { context, source }
    }
}
