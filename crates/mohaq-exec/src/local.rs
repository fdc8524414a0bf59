//! The default executor: every job in this process, in parallel with rayon, results in job
//! order (so the thread count never changes them).

use rayon::prelude::*;
use serde_json::Value;

use crate::batch::JobBatch;
use crate::error::ExecError;
use crate::{Executor, JobHandler};

/// Runs jobs in-process.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalExecutor;

impl Executor for LocalExecutor {
    fn describe(&self) -> String {
        "local".into()
    }

    fn shard_size(&self) -> Option<usize> {
        None
    }

    fn run_batch(&self, batch: &JobBatch, local: &dyn JobHandler) -> Result<Vec<Value>, ExecError> {
        batch
            .inputs
            .par_iter()
            .enumerate()
            .map(|(index, input)| {
                local.run(input).map_err(|message| ExecError::Job {
                    batch: batch.label.clone(),
                    index,
                    message,
                })
            })
            .collect()
    }
}
