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

/// A gene vector that does not describe a quantization of the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GeneError {
    #[error("expected {expected} genes, got {got}")]
    Length { expected: usize, got: usize },
    #[error("gene {index} ({meaning}): {bits} bits is not one of 2, 4, 8, 16")]
    Width {
        index: usize,
        meaning: String,
        bits: u32,
    },
}
