//! The search's independent work sent through a [`mohaq_exec::Executor`]: shards of a large
//! evaluation batch (the PTQ score of each candidate) and beacon retraining (one job per beacon).
//!
//! Only the model-independent half lives here: the batch contexts, and handlers generic over
//! the model. Which models a worker can rebuild from [`Dispatch::model`] is the worker
//! binary's business (`crate::worker`). Beacon decisions, the evolutionary loop and every
//! ordering stay in the coordinator, and a shard returns exactly the scores the coordinator would
//! have computed, so results do not depend on the executor.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use mohaq_evo::Genes;
use mohaq_exec::{Executor, JobHandler};
use mohaq_hw::Platform;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::experiment::Experiment;
use crate::genes::LayerBits;
use crate::limits::ResolvedLimits;
use crate::model::{ErrorModel, Retrainer};
use crate::problem::{CandidateScore, MohaqProblem};
use crate::store::BeaconStore;

/// Label of PTQ shard batches: input `Vec<Genes>`, result `Vec<CandidateScore>`.
pub const PTQ_SHARD: &str = "ptq-shard";
/// Label of beacon retraining batches: input [`LayerBits`], result [`RetrainOutcome`].
pub const BEACON_RETRAIN: &str = "beacon";

/// An executor and how its workers rebuild the model (a value the worker binary understands,
/// e.g. `{"sru": {...}}` or `{"synthetic": {...}}`).
#[derive(Clone)]
pub struct Dispatch {
    pub executor: Arc<dyn Executor>,
    pub model: Value,
}

impl fmt::Debug for Dispatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dispatch")
            .field("executor", &self.executor.describe())
            .field("model", &self.model)
            .finish()
    }
}

/// What a PTQ shard needs to rebuild the problem: the experiment (its platform path is
/// resolved in the worker's directory, the coordinator's), the resolved limits, the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PtqContext {
    pub experiment: Experiment,
    pub limits: ResolvedLimits,
    /// Name of the coordinator's platform, checked by the worker.
    pub platform_name: Option<String>,
    pub model: Value,
}

/// What a beacon retraining job needs besides the widths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetrainContext {
    pub model: Value,
    pub store_dir: PathBuf,
    pub epochs: usize,
}

/// What a retraining job reports; the weights themselves are in the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetrainOutcome {
    pub key: String,
    /// Whether the store already held the beacon (nothing was retrained).
    pub reused: bool,
}

fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, String> {
    serde_json::to_value(value).map_err(|e| format!("cannot serialise: {e}"))
}

fn from_value<T: serde::de::DeserializeOwned>(value: &Value, what: &str) -> Result<T, String> {
    serde_json::from_value(value.clone()).map_err(|e| format!("malformed {what}: {e}"))
}

/// The PTQ scores of a shard, in candidate order (the coordinator's own computation).
pub fn ptq_scores<M: ErrorModel>(
    problem: &MohaqProblem<'_, M>,
    input: &Value,
) -> Result<Value, String> {
    let genes: Vec<Genes> = from_value(input, "shard input")?;
    let scores = problem
        .ptq_scores(&genes)
        .into_iter()
        .collect::<Result<Vec<CandidateScore>, _>>()
        .map_err(|e| e.to_string())?;
    to_value(&scores)
}

/// PTQ shards on a problem the coordinator already holds (the local executor's path).
pub struct LocalPtq<'p, 'a, M: ErrorModel>(pub &'p MohaqProblem<'a, M>);

impl<M: ErrorModel> JobHandler for LocalPtq<'_, '_, M> {
    fn run(&self, input: &Value) -> Result<Value, String> {
        ptq_scores(self.0, input)
    }
}

/// PTQ shards in a worker: owns what the problem borrows and rebuilds it per job (cheap).
pub struct WorkerPtq<M> {
    pub context: PtqContext,
    pub model: M,
    pub platform: Option<Platform>,
}

impl<M: ErrorModel> WorkerPtq<M> {
    /// Loads the experiment's platform and checks it is the coordinator's.
    pub fn new(context: PtqContext, model: M) -> Result<Self, String> {
        let platform = context
            .experiment
            .platform
            .as_ref()
            .map(|p| {
                Platform::from_toml_file(p).map_err(|e| format!("platform {}: {e}", p.display()))
            })
            .transpose()?;
        let name = platform.as_ref().map(|p| p.name().to_string());
        if name != context.platform_name {
            return Err(format!(
                "the worker loaded platform {name:?} but the coordinator searches on {:?}",
                context.platform_name
            ));
        }
        Ok(Self {
            context,
            model,
            platform,
        })
    }
}

impl<M: ErrorModel> JobHandler for WorkerPtq<M> {
    fn run(&self, input: &Value) -> Result<Value, String> {
        let problem = MohaqProblem::new(
            &self.context.experiment,
            &self.model,
            self.platform.as_ref(),
            self.context.limits.clone(),
        )
        .map_err(|e| e.to_string())?;
        ptq_scores(&problem, input)
    }
}

/// Retrains (or finds) one beacon in a store: the same call locally and in a worker.
pub struct RetrainJob<'r, W> {
    pub store: BeaconStore,
    pub epochs: usize,
    pub retrainer: &'r dyn Retrainer<W>,
}

impl<W> JobHandler for RetrainJob<'_, W> {
    fn run(&self, input: &Value) -> Result<Value, String> {
        let bits: LayerBits = from_value(input, "beacon widths")?;
        let loaded = self
            .store
            .get_or_retrain(&bits, self.epochs, self.retrainer)
            .map_err(|e| e.to_string())?;
        to_value(&RetrainOutcome {
            key: loaded.meta.key,
            reused: loaded.reused,
        })
    }
}

/// A retraining job in a worker: owns its retrainer (the worker's model), which retrains to
/// weights of type `W`.
pub struct WorkerRetrain<R, W> {
    pub context: RetrainContext,
    pub retrainer: R,
    weights: std::marker::PhantomData<fn() -> W>,
}

impl<R, W> WorkerRetrain<R, W> {
    pub fn new(context: RetrainContext, retrainer: R) -> Self {
        Self {
            context,
            retrainer,
            weights: std::marker::PhantomData,
        }
    }
}

impl<W, R: Retrainer<W>> JobHandler for WorkerRetrain<R, W> {
    fn run(&self, input: &Value) -> Result<Value, String> {
        RetrainJob {
            store: BeaconStore::new(&self.context.store_dir),
            epochs: self.context.epochs,
            retrainer: &self.retrainer,
        }
        .run(input)
    }
}

/// The PTQ scores of `batch` through `dispatch`, sharded; `None` if the batch is too small
/// for one shard or the executor evaluates in-process (then the caller does as before).
pub fn sharded_ptq_scores<M: ErrorModel>(
    problem: &MohaqProblem<'_, M>,
    dispatch: &Dispatch,
    context: &Value,
    batch: &[Genes],
) -> Option<Result<Vec<CandidateScore>, String>> {
    let size = dispatch.executor.shard_size()?;
    if batch.len() < size {
        return None;
    }
    let inputs = batch
        .chunks(size)
        .map(to_value)
        .collect::<Result<Vec<_>, _>>();
    let run = || -> Result<Vec<CandidateScore>, String> {
        let jobs = mohaq_exec::JobBatch::new(PTQ_SHARD, context.clone(), inputs?);
        let results = dispatch
            .executor
            .run_batch(&jobs, &LocalPtq(problem))
            .map_err(|e| e.to_string())?;
        let mut scores = Vec::with_capacity(batch.len());
        for (i, r) in results.iter().enumerate() {
            let shard: Vec<CandidateScore> = from_value(r, &format!("result of shard {i}"))?;
            scores.extend(shard);
        }
        if scores.len() != batch.len() {
            return Err(format!(
                "the shards returned {} scores for {} candidates",
                scores.len(),
                batch.len()
            ));
        }
        // Each shard scored the candidates it was given, in order; a stale or foreign result
        // file would show up as other widths.
        for (genes, score) in batch.iter().zip(&scores) {
            if problem.bits_of(genes).ok() != Some(score.bits) {
                return Err(format!(
                    "a shard returned the score of {} for candidate {genes:?}",
                    score.bits.display_genes()
                ));
            }
        }
        Ok(scores)
    };
    Some(run())
}
