//! A batch of independent jobs and the folder a remote executor keeps it in.
//!
//! ```text
//! <root>/<label>-<hash>/
//!   batch.json          the shared context and the number of jobs
//!   input/<i>.json      job i's input
//!   result/<i>.json     job i's result, written atomically by whoever ran it
//!   submit.sh           the sbatch script (Slurm)
//!   ledger.json         every Slurm submission of this batch (Slurm)
//!   logs/task-<i>.<job>.log
//! ```
//!
//! The folder is named by a hash of the context and the inputs, so the same batch asked for
//! again (a coordinator rerun after a crash) finds its finished results and is not recomputed.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::ExecError;
use crate::fsio::write_json_atomic;

/// Independent jobs sharing one context.
#[derive(Debug, Clone, PartialEq)]
pub struct JobBatch {
    /// What kind of work this is ("ptq-shard", "beacon"), for folder names and messages.
    pub label: String,
    /// What every job needs besides its input (the experiment, the model, ...).
    pub context: Value,
    /// One input per job.
    pub inputs: Vec<Value>,
}

/// What `batch.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchHeader {
    pub label: String,
    pub context: Value,
    pub n_jobs: usize,
}

impl JobBatch {
    pub fn new(label: impl Into<String>, context: Value, inputs: Vec<Value>) -> Self {
        Self {
            label: label.into(),
            context,
            inputs,
        }
    }

    /// `<label>-<first 16 hex digits of sha256(context, inputs)>`.
    pub fn name(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.context.to_string().as_bytes());
        for input in &self.inputs {
            hasher.update(b"\n");
            hasher.update(input.to_string().as_bytes());
        }
        let digest = hasher.finalize();
        let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        format!("{}-{hex}", self.label)
    }
}

/// The folder of one batch.
#[derive(Debug, Clone)]
pub struct BatchDir {
    dir: PathBuf,
}

fn io(path: &Path, action: &'static str) -> impl FnOnce(std::io::Error) -> ExecError {
    let path = path.to_path_buf();
    move |source| ExecError::Io {
        path,
        action,
        source,
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ExecError> {
    let text = std::fs::read(path).map_err(io(path, "reading"))?;
    serde_json::from_slice(&text).map_err(|e| ExecError::BadFile {
        path: path.to_path_buf(),
        message: format!("malformed JSON: {e}"),
    })
}

impl BatchDir {
    /// The folder of an existing batch (as a worker sees it).
    pub fn open(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Creates (or reopens) the folder of `batch` under `root`, writing the context and inputs
    /// unless they are already there.
    pub fn prepare(root: &Path, batch: &JobBatch) -> Result<Self, ExecError> {
        let me = Self::open(root.join(batch.name()));
        for sub in ["input", "result", "logs"] {
            let path = me.dir.join(sub);
            std::fs::create_dir_all(&path).map_err(io(&path, "creating the batch folder"))?;
        }
        let header = BatchHeader {
            label: batch.label.clone(),
            context: batch.context.clone(),
            n_jobs: batch.inputs.len(),
        };
        let path = me.header_path();
        if path.exists() {
            let existing: BatchHeader = read_json(&path)?;
            if existing != header {
                return Err(ExecError::BadFile {
                    path,
                    message: "holds another batch under the same name; delete the folder".into(),
                });
            }
        }
        for (i, input) in batch.inputs.iter().enumerate() {
            let path = me.input_path(i);
            if !path.exists() {
                write_json_atomic(&path, input).map_err(io(&path, "writing a job input"))?;
            }
        }
        write_json_atomic(&path, &header).map_err(io(&path, "writing the batch header"))?;
        Ok(me)
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn header_path(&self) -> PathBuf {
        self.dir.join("batch.json")
    }

    pub fn input_path(&self, index: usize) -> PathBuf {
        self.dir.join("input").join(format!("{index}.json"))
    }

    pub fn result_path(&self, index: usize) -> PathBuf {
        self.dir.join("result").join(format!("{index}.json"))
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.dir.join("logs")
    }

    /// The log of task `index` run as Slurm array `array_job` (the `%a.%A` of the script).
    pub fn log_path(&self, index: usize, array_job: &str) -> PathBuf {
        self.logs_dir()
            .join(format!("task-{index}.{array_job}.log"))
    }

    pub fn header(&self) -> Result<BatchHeader, ExecError> {
        read_json(&self.header_path())
    }

    pub fn input(&self, index: usize) -> Result<Value, ExecError> {
        read_json(&self.input_path(index))
    }

    /// Job `index`'s result if it has been written.
    pub fn result(&self, index: usize) -> Result<Option<Value>, ExecError> {
        let path = self.result_path(index);
        if !path.exists() {
            return Ok(None);
        }
        read_json(&path).map(Some)
    }

    /// Writes job `index`'s result atomically.
    pub fn write_result(&self, index: usize, result: &Value) -> Result<(), ExecError> {
        let path = self.result_path(index);
        write_json_atomic(&path, result).map_err(io(&path, "writing a job result"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn name_depends_on_context_and_inputs() {
        let a = JobBatch::new("x", json!({"m": 1}), vec![json!(1), json!(2)]);
        let mut b = a.clone();
        assert_eq!(a.name(), b.name());
        b.inputs[1] = json!(3);
        assert_ne!(a.name(), b.name());
        let mut c = a.clone();
        c.context = json!({"m": 2});
        assert_ne!(a.name(), c.name());
        assert!(a.name().starts_with("x-"));
    }

    #[test]
    fn prepare_refuses_a_folder_of_another_batch() {
        let root = tempfile::tempdir().unwrap();
        let batch = JobBatch::new("x", json!(1), vec![json!("a")]);
        let dir = BatchDir::prepare(root.path(), &batch).unwrap();
        assert_eq!(dir.input(0).unwrap(), json!("a"));
        assert_eq!(dir.result(0).unwrap(), None);
        dir.write_result(0, &json!(0.1 + 0.2)).unwrap();
        assert_eq!(dir.result(0).unwrap(), Some(json!(0.1 + 0.2)));
        // Reopening the same batch keeps its results.
        let again = BatchDir::prepare(root.path(), &batch).unwrap();
        assert!(again.result(0).unwrap().is_some());
        // A different header under the same name is an error naming the file.
        let header = dir.path().join("batch.json");
        std::fs::write(&header, br#"{"label":"x","context":2,"n_jobs":1}"#).unwrap();
        let err = BatchDir::prepare(root.path(), &batch)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("batch.json") && err.contains("another batch"),
            "{err}"
        );
    }
}
