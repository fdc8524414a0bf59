//! The worker side: one task of a batch, run by `mohaq worker BATCH_DIR INDEX` on a cluster node.
//!
//! It reads the batch's context and its input, computes the result with the handler the context
//! asks for, and writes it atomically. A task whose result already exists does nothing, so a
//! resubmitted or duplicated task never evaluates twice.

use std::path::Path;

use serde_json::Value;

use crate::batch::BatchDir;
use crate::error::ExecError;
use crate::JobHandler;

/// What a worker did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskOutcome {
    Computed,
    AlreadyDone,
}

/// Builds the handler of a batch from its label and context (the binary knows which kinds of
/// batch exist); an error message names what is wrong with the context.
pub type HandlerFactory = dyn Fn(&str, &Value) -> Result<Box<dyn JobHandler>, String>;

/// Runs task `index` of the batch in `batch_dir`; `handler_for(label, context)` builds the
/// handler (the binary knows which kinds of batch exist).
pub fn run_task(
    batch_dir: &Path,
    index: usize,
    handler_for: &HandlerFactory,
) -> Result<TaskOutcome, ExecError> {
    let dir = BatchDir::open(batch_dir);
    let header = dir.header()?;
    if index >= header.n_jobs {
        return Err(ExecError::Invalid(format!(
            "{}: task {index} does not exist (the batch has {} jobs)",
            batch_dir.display(),
            header.n_jobs
        )));
    }
    if dir.result(index)?.is_some() {
        return Ok(TaskOutcome::AlreadyDone);
    }
    let input = dir.input(index)?;
    let job_error = |message: String| ExecError::Job {
        batch: header.label.clone(),
        index,
        message,
    };
    let handler = handler_for(&header.label, &header.context).map_err(job_error)?;
    let result = handler.run(&input).map_err(job_error)?;
    dir.write_result(index, &result)?;
    Ok(TaskOutcome::Computed)
}
