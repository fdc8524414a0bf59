//! Typed errors of the engine; each names what was wrong and where.

use std::path::PathBuf;

use thiserror::Error;

use crate::problem::Genes;

/// A decision space that cannot be searched.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SpaceError {
    #[error("the decision space has no variables")]
    Empty,
    #[error("variable {index}: bounds [{lo}, {hi}] are empty or not finite")]
    BadBounds { index: usize, lo: f64, hi: f64 },
    #[error("variable {index}: the list of allowed values is empty")]
    NoChoices { index: usize },
    #[error(
        "variable {index} is real-valued; only integer and allowed-value spaces can be enumerated"
    )]
    NotDiscrete { index: usize },
    #[error("the space has {size} candidates, more than the limit {limit} for enumeration")]
    TooLarge { size: u128, limit: u128 },
}

/// Settings that cannot run.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ConfigError {
    #[error("{field} must be {requirement}, got {value}")]
    Invalid {
        field: &'static str,
        requirement: &'static str,
        value: String,
    },
}

/// Reading or writing a checkpoint failed, or it belongs to another run.
#[derive(Debug, Error)]
pub enum CheckpointError {
    #[error("checkpoint {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("checkpoint {path}: malformed JSON: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "checkpoint {path}: {field} differs from this run's ({detail}); use another run directory"
    )]
    Mismatch {
        path: PathBuf,
        field: &'static str,
        detail: String,
    },
    #[error("checkpoint {path}: format version {found}, this build reads {expected}")]
    Version {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
}

/// Why a run stopped without finishing.
#[derive(Debug, Error)]
pub enum Nsga2Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Space(#[from] SpaceError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The problem reported an error; evaluations that finished before it are checkpointed.
    #[error("generation {generation}: evaluating genes {genes:?} failed: {source}")]
    Evaluation {
        generation: usize,
        genes: Genes,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The problem returned something the engine cannot rank.
    #[error("generation {generation}: evaluation of genes {genes:?} is unusable: {reason}")]
    BadEvaluation {
        generation: usize,
        genes: Genes,
        reason: String,
    },
    #[error("the problem returned {got} results for a batch of {expected}")]
    BatchSize { expected: usize, got: usize },
}

/// An indicator asked of points it cannot measure.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum IndicatorError {
    #[error("the reference point is empty")]
    EmptyReference,
    #[error("{which} {index} has a non-finite coordinate")]
    NonFinite { which: &'static str, index: usize },
    #[error("point {index} has {got} objectives, expected {expected}")]
    Dimension {
        index: usize,
        expected: usize,
        got: usize,
    },
    #[error("an indicator needs non-empty point sets")]
    EmptySet,
}
