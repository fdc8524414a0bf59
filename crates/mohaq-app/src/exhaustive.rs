//! The exhaustive true front of an experiment whose space is small enough to enumerate, through
//! any executor: with a remote one, the whole space is one batch split into shards (a job
//! array); locally it is evaluated in chunks in this process. The front is the same either way.

use std::path::{Path, PathBuf};

use mohaq_beacon::dispatch::Dispatch;
use mohaq_beacon::fsio::write_json_atomic;
use mohaq_beacon::limits::ResolvedLimits;
use mohaq_beacon::{ErrorModel, Experiment, MohaqProblem, RunError};
use mohaq_evo::{exhaustive_front, EvaluationArchive, EvaluationRecord};
use mohaq_hw::Platform;
use serde::Serialize;

/// Largest space enumerated.
pub const EXHAUSTIVE_LIMIT: u128 = 10_000;
/// Candidates per in-process chunk. Each chunk is one [`ErrorModel::errors`] batch, which the
/// SRU runs in computation order reusing every shared width prefix, so larger chunks share more.
/// 729 = 3^6: on SiLago's three widths a chunk fixes the first two genes (L0, L1) and varies the
/// rest, and the space costs 9,864 layer steps (9,840 as one batch, 52,488 without reuse), while
/// a chunk's memory stays a few states per utterance and progress comes every ninth of the space.
pub const LOCAL_CHUNK: usize = 729;

/// What `exhaustive_front.json` holds.
#[derive(Debug, Clone, Serialize)]
pub struct ExhaustiveRun {
    pub experiment: String,
    pub executor: String,
    pub candidates: usize,
    pub seconds: f64,
    pub front: Vec<EvaluationRecord>,
    #[serde(skip)]
    pub path: PathBuf,
}

/// Evaluates every candidate of `experiment` on `model` and writes
/// `<out>/exhaustive_front.json`; `progress(done, total, archive)` after each chunk (e.g.
/// [`crate::progress::CandidateProgress`]).
pub fn exhaustive_run<M: ErrorModel>(
    experiment: &Experiment,
    model: &M,
    platform: Option<&Platform>,
    dispatch: Option<Dispatch>,
    out: &Path,
    progress: impl FnMut(usize, usize, &EvaluationArchive),
) -> Result<ExhaustiveRun, RunError> {
    let limits = ResolvedLimits::for_model(experiment, model, platform)?;
    let mut problem = MohaqProblem::new(experiment, model, platform, limits)?;
    let executor = dispatch
        .as_ref()
        .map_or("local".to_string(), |d| d.executor.describe());
    // A remote executor gets the whole space at once, so every shard is out at the same time.
    let chunk = match &dispatch {
        Some(d) if d.executor.shard_size().is_some() => EXHAUSTIVE_LIMIT as usize,
        _ => LOCAL_CHUNK,
    };
    if let Some(d) = dispatch {
        problem = problem.with_dispatch(d, experiment)?;
    }
    std::fs::create_dir_all(out).map_err(|source| RunError::Io {
        path: out.to_path_buf(),
        action: "creating the output folder",
        source,
    })?;
    let start = std::time::Instant::now();
    let mut archive = EvaluationArchive::new();
    let front = exhaustive_front(&problem, &mut archive, EXHAUSTIVE_LIMIT, chunk, progress)?;
    let run = ExhaustiveRun {
        experiment: experiment.name.clone(),
        executor,
        candidates: archive.len(),
        seconds: start.elapsed().as_secs_f64(),
        front,
        path: out.join("exhaustive_front.json"),
    };
    write_json_atomic(&run.path, &run).map_err(|source| RunError::Io {
        path: run.path.clone(),
        action: "writing the exhaustive front",
        source,
    })?;
    Ok(run)
}
