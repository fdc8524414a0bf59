//! Every submission of one batch (`ledger.json`): which array job ran which tasks. A rerun of a
//! killed coordinator reads it to adopt tasks still queued or running instead of resubmitting
//! them; tests read it to see what was submitted.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::ExecError;
use crate::fsio::write_json_atomic;

/// One `sbatch` call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    /// The array's job id.
    pub job: String,
    pub tasks: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Ledger {
    pub submissions: Vec<Submission>,
}

pub const LEDGER_FILE: &str = "ledger.json";

impl Ledger {
    /// The ledger of the batch in `dir` (empty if none was written).
    pub fn load(dir: &Path) -> Result<Self, ExecError> {
        let path = dir.join(LEDGER_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| ExecError::BadFile {
                path,
                message: format!("malformed ledger: {e}"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(ExecError::Io {
                path,
                action: "reading the ledger",
                source,
            }),
        }
    }

    pub fn save(&self, dir: &Path) -> Result<(), ExecError> {
        let path = dir.join(LEDGER_FILE);
        write_json_atomic(&path, self).map_err(|source| ExecError::Io {
            path,
            action: "writing the ledger",
            source,
        })
    }

    /// The array job that last ran `task`.
    pub fn last_array_job(&self, task: usize) -> Option<&str> {
        self.submissions
            .iter()
            .rev()
            .find(|s| s.tasks.contains(&task))
            .map(|s| s.job.as_str())
    }

    /// How often `task` was submitted.
    pub fn submissions_of(&self, task: usize) -> usize {
        self.submissions
            .iter()
            .filter(|s| s.tasks.contains(&task))
            .count()
    }
}

/// The Slurm id of task `task` of array job `array_job`.
pub fn task_id(array_job: &str, task: usize) -> String {
    format!("{array_job}_{task}")
}
