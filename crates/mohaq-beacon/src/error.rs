//! Errors of the MOHAQ problem and its searches; each names the file, key or candidate at fault.

use std::path::PathBuf;

/// A problem with an experiment file.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("{}: key `{key}`: {problem}", path.display())]
    Invalid {
        path: PathBuf,
        key: String,
        problem: String,
    },
}

/// A gene vector that does not describe a quantization of the model (the codec's error).
pub use mohaq_precision::GeneError;

/// Why an error model (the quantized evaluator of a trained model, or a retrainer) failed.
///
/// The model lives in another crate with its own error types; boxing keeps this crate
/// independent of them while the message (and the source chain) still reaches the user.
#[derive(Debug, thiserror::Error)]
#[error("{context}: {source}")]
pub struct ModelFailure {
    pub context: String,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl ModelFailure {
    pub fn new(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self {
            context: context.into(),
            source: source.into(),
        }
    }
}

/// A problem with the on-disk beacon store.
#[derive(Debug, thiserror::Error)]
pub enum BeaconStoreError {
    #[error("{}: {action}: {source}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    #[error("{}: beacon metadata is not valid: {message} (delete it and its weights file to retrain the beacon)", path.display())]
    BadMetadata { path: PathBuf, message: String },
    #[error("{}: corrupt beacon weights: sha256 is {actual}, the metadata says {expected} (delete the file and its .json to retrain the beacon)", path.display())]
    Corrupt {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("beacon {key}: {source}")]
    Model {
        key: String,
        #[source]
        source: ModelFailure,
    },
    #[error("retraining beacons through the executor: {message}")]
    Remote { message: String },
}

/// Why a candidate could not be evaluated.
#[derive(Debug, thiserror::Error)]
pub enum ProblemError {
    #[error(transparent)]
    Genes(#[from] GeneError),
    #[error(transparent)]
    Hardware(#[from] mohaq_hw::HwError),
    #[error(transparent)]
    Model(#[from] ModelFailure),
    #[error(transparent)]
    Beacon(#[from] BeaconStoreError),
    #[error("{0}")]
    Setup(String),
}

/// Why a search run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Experiment(#[from] ExperimentError),
    #[error(transparent)]
    Problem(#[from] ProblemError),
    #[error(transparent)]
    Search(#[from] mohaq_evo::Nsga2Error),
    #[error(transparent)]
    Beacon(#[from] BeaconStoreError),
    #[error(transparent)]
    Model(#[from] ModelFailure),
    #[error(transparent)]
    Hardware(#[from] mohaq_hw::HwError),
    #[error("{}: {action}: {source}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    RunDir { path: PathBuf, message: String },
    /// Another process works in the run directory.
    #[error(transparent)]
    Locked(#[from] mohaq_fsio::LockError),
    #[error("{0}")]
    Invalid(String),
}
