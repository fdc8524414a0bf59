//! `mohaq worker BATCH_DIR INDEX`: one task of a batch the Slurm executor submitted. The batch's
//! context names the model as a [`WorkerModel`]; the worker rebuilds it (the experiment's
//! model, SRU or LSTM/GRU as its bundle says ([`SearchModel`]), or the synthetic test model) and runs the job with the same code the
//! coordinator would have run in-process.

use std::path::{Path, PathBuf};

use mohaq_exec::worker::{run_task, TaskOutcome};
use mohaq_exec::{ExecError, ExecutorConfig, JobHandler, SlurmExecutor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::search_model::SearchModel;
use mohaq_beacon::dispatch::{
    Dispatch, PtqContext, RetrainContext, WorkerPtq, WorkerRetrain, BEACON_RETRAIN, PTQ_SHARD,
};
use mohaq_beacon::experiment::Experiment;
use mohaq_beacon::synthetic::SyntheticModel;

/// How a worker rebuilds the coordinator's model (the `model` of a [`Dispatch`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkerModel {
    /// The model of an experiment file, the SRU or an LSTM/GRU bundle (the name stays `sru`
    /// for batches already written); paths relative to the coordinator's directory.
    Sru {
        experiment: Box<Experiment>,
        data: Option<PathBuf>,
    },
    /// The synthetic test model, optionally slowed down per evaluation.
    Synthetic { delay_ms: u64 },
}

impl WorkerModel {
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a worker model serialises")
    }
}

fn parse<T: serde::de::DeserializeOwned>(value: &Value, what: &str) -> Result<T, String> {
    serde_json::from_value(value.clone()).map_err(|e| format!("malformed {what}: {e}"))
}

fn synthetic(delay_ms: u64) -> SyntheticModel {
    SyntheticModel::new().with_delay(std::time::Duration::from_millis(delay_ms))
}

/// The experiment's model as the coordinator built it: SRU or LSTM/GRU, from the bundle.
fn experiment_model(experiment: &Experiment, data: Option<&Path>) -> Result<SearchModel, String> {
    SearchModel::for_experiment(experiment, Path::new("."), data).map_err(|e| e.to_string())
}

/// The handler for a batch of kind `label` with `context`.
pub fn handler_for(label: &str, context: &Value) -> Result<Box<dyn JobHandler>, String> {
    match label {
        PTQ_SHARD => {
            let context: PtqContext = parse(context, "shard context")?;
            Ok(match parse(&context.model, "worker model")? {
                WorkerModel::Synthetic { delay_ms } => {
                    Box::new(WorkerPtq::new(context, synthetic(delay_ms))?)
                }
                WorkerModel::Sru { experiment, data } => {
                    let model = experiment_model(&experiment, data.as_deref())?;
                    Box::new(WorkerPtq::new(context, model)?)
                }
            })
        }
        BEACON_RETRAIN => {
            let context: RetrainContext = parse(context, "retraining context")?;
            Ok(match parse(&context.model, "worker model")? {
                WorkerModel::Synthetic { delay_ms } => {
                    Box::new(WorkerRetrain::new(context, synthetic(delay_ms)))
                }
                WorkerModel::Sru { experiment, data } => {
                    let model = experiment_model(&experiment, data.as_deref())?;
                    Box::new(WorkerRetrain::new(context, model))
                }
            })
        }
        other => Err(format!(
            "this mohaq does not know batches of kind `{other}`"
        )),
    }
}

/// Runs task `index` of the batch in `batch_dir`.
pub fn serve(batch_dir: &Path, index: usize) -> Result<TaskOutcome, ExecError> {
    run_task(batch_dir, index, &handler_for)
}

/// The dispatch of a run under `config`: `None` for the local executor (everything in this
/// process, as without an executor), else a Slurm executor keeping its batches in
/// `<run_dir>/exec` whose tasks run this very binary as `<binary> worker`.
pub fn dispatch_for(
    config: &ExecutorConfig,
    run_dir: &Path,
    model: WorkerModel,
) -> Result<Option<Dispatch>, ExecError> {
    let ExecutorConfig::Slurm(slurm) = config else {
        return Ok(None);
    };
    let io = |path: &Path, action: &'static str| {
        let path = path.to_path_buf();
        move |source| ExecError::Io {
            path,
            action,
            source,
        }
    };
    let binary = std::env::current_exe().map_err(io(Path::new("."), "finding this binary"))?;
    let root = std::path::absolute(run_dir.join("exec"))
        .map_err(io(run_dir, "resolving the run directory"))?;
    let executor = SlurmExecutor::new(
        slurm.clone(),
        root,
        vec![binary.to_string_lossy().into_owned(), "worker".into()],
    )?;
    Ok(Some(Dispatch {
        executor: std::sync::Arc::new(executor),
        model: model.to_value(),
    }))
}
