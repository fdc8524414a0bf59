//! What can go wrong running a batch; every error names the job or file involved.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("{path}: {action}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    BadFile { path: PathBuf, message: String },
    #[error("job {index} of batch `{batch}` failed: {message}")]
    Job {
        batch: String,
        index: usize,
        message: String,
    },
    #[error("`{command}` failed: {message}")]
    Command { command: String, message: String },
    #[error(
        "Slurm job {job} (task {index} of batch `{batch}`) failed {attempts} times, last state {state}; see its log {}",
        log.display()
    )]
    JobFailed {
        batch: String,
        index: usize,
        job: String,
        attempts: u32,
        state: String,
        log: PathBuf,
    },
    #[error("interrupted; cancelled this run's Slurm jobs {jobs:?}")]
    Interrupted { jobs: Vec<String> },
    #[error("{0}")]
    Invalid(String),
}
