//! Executors: "run these independent jobs and give me their results".
//!
//! The search stays in one process; its expensive, independent pieces (beacon retraining, shards
//! of a large evaluation batch) go through an [`Executor`] as a [`JobBatch`]: one context shared
//! by every job, one JSON input per job, one JSON result per job, in job order.
//! [`LocalExecutor`] runs them in this process with rayon (the default); [`SlurmExecutor`]
//! submits them as a Slurm job array whose tasks run the same binary as a worker
//! ([`worker::run_task`]) and write their results into a batch folder on a shared filesystem.
//!
//! Results travel as JSON with exact float round-tripping, and a job is a pure function of its
//! context and input, so the executor never changes a result.

pub mod batch;
pub mod config;
pub mod error;
mod fsio;
pub mod local;
pub mod slurm;
pub mod worker;

use serde_json::Value;

pub use batch::{BatchDir, JobBatch};
pub use config::{ExecutorConfig, ExecutorOverrides, SlurmConfig};
pub use error::ExecError;
pub use local::LocalExecutor;
pub use slurm::SlurmExecutor;

/// Computes one job of a batch (the context is bound when the handler is built).
pub trait JobHandler: Sync {
    /// The result of one job; an error message ends the batch.
    fn run(&self, input: &Value) -> Result<Value, String>;
}

/// Runs the jobs of a batch and returns their results in job order.
pub trait Executor: Send + Sync {
    /// One line for logs: "local", "slurm (partition debug)".
    fn describe(&self) -> String;

    /// Candidates one job should evaluate when a large evaluation batch is split into shards;
    /// `None` means "evaluate in this process, unsplit" (the local executor).
    fn shard_size(&self) -> Option<usize>;

    /// Runs every job of `batch`. `local` is the handler for this batch's context, which the
    /// local executor calls directly; a remote executor's workers rebuild it from the context.
    fn run_batch(&self, batch: &JobBatch, local: &dyn JobHandler) -> Result<Vec<Value>, ExecError>;
}
