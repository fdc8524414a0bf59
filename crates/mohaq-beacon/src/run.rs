//! One search, start to finish, in a run directory:
//! - `mohaq.lock`: held while a search runs (mohaq-fsio's `DirLock`), so that a second process
//!   on the same directory is refused instead of rewriting the checkpoint;
//! - `experiment.toml`: the experiment as run, paths absolute (a rerun with a different
//!   experiment is refused);
//! - `limits.json`: the resolved limits and how each was obtained;
//! - `checkpoint.json` (the paper's NSGA-II: population, generator, every evaluation) or
//!   `strategy_checkpoint.json` (the default search: every evaluation, replayed on resume), so a
//!   killed run resumes to the same result without repeating an evaluation;
//! - `beacons.json`, `beacon_scores.json`: the run's beacons and beacon scores (beacon search);
//! - `front.json`: the final Pareto front, each solution re-evaluated on the test split.

use std::path::{Path, PathBuf};

use mohaq_evo::strategy::resumable::{Replay, ReplayOutcome, STRATEGY_CHECKPOINT_FILE};
use mohaq_evo::strategy::surrogate_search::SurrogateSearch;
use mohaq_evo::{EvaluationArchive, Nsga2, Nsga2Config, Observer, Strategy};
use mohaq_fsio::DirLock;
use mohaq_hw::Platform;
use mohaq_precision::{GeneCodec, LayerTable};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::beacons::{BeaconRecord, BeaconSearch, BeaconSettings};
use crate::dispatch::Dispatch;
use crate::error::RunError;
use crate::experiment::{BeaconMode, Experiment, ExperimentKind, SearchStrategy};
use crate::fsio::{write_atomic, write_json_atomic};
use crate::genes::LayerBits;
use crate::limits::ResolvedLimits;
use crate::model::{ErrorModel, Retrainer};
use crate::problem::{CandidateScore, GeneLayout, MohaqProblem};
use crate::store::BeaconStore;

pub const EXPERIMENT_FILE: &str = "experiment.toml";
pub const LIMITS_FILE: &str = "limits.json";
pub const FRONT_FILE: &str = "front.json";

/// One solution of the final front.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrontSolution {
    /// Position in the front (sorted by error), as `mohaq export --solution` takes it.
    pub index: usize,
    /// The widths in the paper's grouping, for tables.
    pub genes_display: String,
    pub score: CandidateScore,
    /// Error on the test split with frozen activation clipping (on the weights that gave the
    /// search score).
    pub test_error: Option<f64>,
}

/// What a finished (or stopped) search leaves in `front.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrontFile {
    pub experiment: String,
    pub kind: ExperimentKind,
    pub layout: GeneLayout,
    pub model: String,
    pub platform: Option<String>,
    pub objective_names: Vec<String>,
    pub limits: ResolvedLimits,
    pub n_evaluations: usize,
    pub generations: usize,
    pub completed: bool,
    pub resumed_from: Option<usize>,
    pub beacons: Vec<BeaconRecord>,
    pub solutions: Vec<FrontSolution>,
    /// What reusing layer outputs across candidates saved in this invocation (the SRU's
    /// layer-output cache); absent for models without one and in older files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer_reuse: Option<crate::model::ReuseReport>,
}

impl FrontFile {
    /// Reads `<run_dir>/front.json`.
    pub fn load(run_dir: &Path) -> Result<Self, RunError> {
        let path = run_dir.join(FRONT_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| RunError::Io {
            path: path.clone(),
            action: "reading the front (has the search finished?)",
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| RunError::RunDir {
            path,
            message: format!("malformed front file: {e}"),
        })
    }
}

/// Settings of a run that are not part of the experiment.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Skip the test-split re-evaluation of the front (tests and dry runs).
    pub skip_test: bool,
    /// Beacon store; default: the experiment's `beacons.store_dir`, else `<run dir>/../beacon-store`.
    pub store_dir: Option<PathBuf>,
    /// Where large evaluation batches and beacon retraining run; in this process if `None`.
    pub dispatch: Option<Dispatch>,
    /// Stop at exactly this many evaluations (counting a resumed run's), even before the
    /// experiment's `n_gen`; the front of everything evaluated is written as usual.
    pub max_evaluations: Option<usize>,
}

/// Where a run keeps its beacons.
pub fn store_dir_for(experiment: &Experiment, run_dir: &Path, options: &RunOptions) -> PathBuf {
    options
        .store_dir
        .clone()
        .or_else(|| {
            experiment
                .beacons
                .as_ref()
                .and_then(|b| b.store_dir.clone())
        })
        .unwrap_or_else(|| {
            run_dir
                .parent()
                .unwrap_or_else(|| Path::new("."))
                .join("beacon-store")
        })
}

/// The engine settings of an experiment: the authors' NSGA-II with its budget and seed.
pub fn nsga2_config(experiment: &Experiment) -> Nsga2Config {
    let mut config = Nsga2Config::mohaq_authors(experiment.search.n_gen);
    config.pop_size = experiment.search.pop_size;
    config.n_offsprings = experiment.search.n_offsprings;
    config.seed = experiment.seed;
    config
}

/// The default search of an experiment: the surrogate-assisted search (the error predicted
/// by an additive model refitted after every batch, the hardware objectives exact), with the
/// experiment's population as its seeding limit and its population and offspring sizes for
/// the seeded NSGA-II it falls back to (its seed comes with each run; the budget in
/// evaluations, not `n_gen`, bounds it).
pub fn default_strategy(experiment: &Experiment) -> SurrogateSearch {
    let mut search = SurrogateSearch::with_population(
        "surrogate-assisted (default)",
        experiment.search.pop_size,
        experiment.search.n_offsprings,
    );
    search.fallback.config = nsga2_config(experiment);
    search
}

/// Which search runs in `run_dir`: the experiment's, except that a run directory holding only
/// a checkpoint of the paper's NSGA-II (written before the default changed), for an experiment
/// that names no strategy, resumes as that search.
fn strategy_for(experiment: &Experiment, run_dir: &Path) -> SearchStrategy {
    if experiment.search.strategy.is_none()
        && mohaq_evo::has_checkpoint(run_dir)
        && !run_dir.join(STRATEGY_CHECKPOINT_FILE).is_file()
    {
        tracing::warn!(
            run_dir = %run_dir.display(),
            "resuming the paper's NSGA-II this run directory was started with"
        );
        return SearchStrategy::Paper;
    }
    experiment.search.strategy()
}

/// Runs (or resumes by replay) the default search of `experiment` on `problem`.
fn run_default_search<P: mohaq_evo::LayerwiseProblem>(
    experiment: &Experiment,
    problem: &P,
    run_dir: &Path,
    options: &RunOptions,
    observer: &mut dyn Observer,
) -> Result<ReplayOutcome, RunError> {
    let strategy = default_strategy(experiment);
    let planned = experiment.search.planned_evaluations();
    let budget = options.max_evaluations.map_or(planned, |m| m.min(planned));
    let seed = experiment.seed;
    let replay = Replay::open(
        problem,
        run_dir,
        format!("{strategy:?}, seed {seed}"),
        budget,
    )
    .map_err(mohaq_evo::Nsga2Error::from)?;
    if let Some(batches) = replay.replayed() {
        tracing::info!(batches, "resuming the default search from its checkpoint");
    }
    Ok(replay.drive(observer, |p| strategy.run(p, budget, seed))?)
}

/// Locks `run_dir` for this process until the returned lock is dropped: a second search (or
/// reproduction) on the same run directory is refused with the holder's pid; the lock of a
/// killed process is taken over with a warning naming it.
pub fn lock_run_dir(run_dir: &Path) -> Result<DirLock, RunError> {
    let lock = DirLock::acquire(run_dir)?;
    if let Some(pid) = lock.taken_over_from() {
        tracing::warn!(
            run_dir = %run_dir.display(),
            pid,
            "took over the run directory from process {pid}, which ended without finishing"
        );
    }
    Ok(lock)
}

/// Writes the experiment copy, or checks that the run directory holds the same experiment
/// (the generation budget may grow between runs).
fn claim_run_dir(experiment: &Experiment, run_dir: &Path) -> Result<(), RunError> {
    std::fs::create_dir_all(run_dir).map_err(|source| RunError::Io {
        path: run_dir.to_path_buf(),
        action: "creating the run directory",
        source,
    })?;
    let path = run_dir.join(EXPERIMENT_FILE);
    // Relative paths are taken from the current directory, then stored absolute.
    let here = Path::new(".");
    let experiment = &experiment.clone().resolve(here);
    let text = toml::to_string(experiment)
        .map_err(|e| RunError::Invalid(format!("cannot serialise the experiment: {e}")))?;
    if path.exists() {
        let previous = Experiment::from_file(&path)?.resolve(here);
        let mut a = previous.clone();
        let mut b = experiment.clone();
        a.search.n_gen = 0;
        b.search.n_gen = 0;
        a.executor = None;
        b.executor = None;
        if a != b {
            return Err(RunError::RunDir {
                path: run_dir.to_path_buf(),
                message: format!(
                    "holds a run of a different experiment (`{}`); use another output folder or delete it",
                    previous.name
                ),
            });
        }
    }
    write_atomic(&path, text.as_bytes()).map_err(|source| RunError::Io {
        path,
        action: "writing the experiment copy",
        source,
    })
}

/// The widths of an experiment's fixed beacons, as genes of the model's layer `table` (one per
/// layer: shared, else two per layer).
pub fn fixed_beacon_bits(
    experiment: &Experiment,
    table: &LayerTable,
) -> Result<Vec<LayerBits>, RunError> {
    let Some(b) = &experiment.beacons else {
        return Ok(Vec::new());
    };
    b.fixed
        .iter()
        .enumerate()
        .map(|(i, genes)| {
            LayerBits::decode(&GeneCodec::for_count(table.clone(), genes.len()), genes)
                .map_err(|e| RunError::Invalid(format!("beacons.fixed[{i}]: {e}")))
        })
        .collect()
}

/// The beacon search of a beacon-based experiment: its settings resolved against the limits,
/// its store, and (fixed mode) its beacons prepared.
fn open_beacon_search<'a, M: ErrorModel>(
    experiment: &Experiment,
    problem: &MohaqProblem<'a, M>,
    retrainer: Option<&'a dyn Retrainer<M::Weights>>,
    run_dir: &Path,
    options: &RunOptions,
) -> Result<BeaconSearch<'a, M::Weights>, RunError> {
    let Some(retrainer) = retrainer else {
        return Err(RunError::Invalid(format!(
            "experiment `{}` is beacon-based but no retrainer was given",
            experiment.name
        )));
    };
    let section = experiment
        .beacons
        .as_ref()
        .ok_or_else(|| RunError::Invalid("beacon settings missing".into()))?;
    let band = problem
        .limits()
        .band
        .as_ref()
        .map(|[lo, hi]| [lo.value, hi.value])
        .ok_or_else(|| RunError::Invalid("beacon band missing".into()))?;
    let settings = BeaconSettings {
        mode: section.mode,
        distance_threshold: section.distance_threshold,
        band,
        min_speedup: section.min_speedup,
        epochs: section.epochs,
        max_beacons: section.max_beacons,
        retrain_fc_activation_16: section.retrain_fc_activation_16,
    };
    let store = BeaconStore::new(store_dir_for(experiment, run_dir, options));
    let mut search = BeaconSearch::open(settings, store, retrainer, Some(run_dir))?;
    if let Some(dispatch) = &options.dispatch {
        search = search.with_dispatch(dispatch.clone());
    }
    if section.mode == BeaconMode::Fixed {
        let fixed = fixed_beacon_bits(experiment, problem.codec().table())?;
        for bits in &fixed {
            if problem.genes_of(bits).is_none() {
                return Err(RunError::Invalid(format!(
                    "fixed beacon {} is outside the search space of this platform",
                    bits.display_in(problem.codec())
                )));
            }
        }
        search.prepare_fixed(&fixed)?;
    }
    Ok(search)
}

/// Runs (or resumes) the experiment's search in `run_dir` and writes `front.json`.
///
/// `retrainer` is needed for beacon-based experiments only.
pub fn run_search<M: ErrorModel>(
    experiment: &Experiment,
    model: &M,
    retrainer: Option<&dyn Retrainer<M::Weights>>,
    platform: Option<&Platform>,
    run_dir: &Path,
    options: &RunOptions,
    observer: &mut dyn Observer,
) -> Result<FrontFile, RunError> {
    let _lock = lock_run_dir(run_dir)?;
    claim_run_dir(experiment, run_dir)?;
    let limits = ResolvedLimits::for_model(experiment, model, platform)?;
    let mut problem = MohaqProblem::new(experiment, model, platform, limits)?;
    let limits = problem.limits().clone();
    for note in &limits.notes {
        tracing::warn!("{}: {note}", experiment.name);
    }
    let limits_path = run_dir.join(LIMITS_FILE);
    write_json_atomic(&limits_path, &limits).map_err(|source| RunError::Io {
        path: limits_path,
        action: "writing limits",
        source,
    })?;
    if let Some(dispatch) = &options.dispatch {
        problem = problem.with_dispatch(dispatch.clone(), experiment)?;
    }
    if experiment.uses_beacons() {
        let search = open_beacon_search(experiment, &problem, retrainer, run_dir, options)?;
        problem = problem.with_beacons(search);
    }
    let (archive, generations, completed, resumed_from): (EvaluationArchive, _, _, _) =
        match strategy_for(experiment, run_dir) {
            SearchStrategy::Paper => {
                let mut engine = Nsga2::new(nsga2_config(experiment))?.with_run_dir(run_dir);
                if let Some(max) = options.max_evaluations {
                    engine = engine.with_max_evaluations(max);
                }
                let outcome = engine.run(&problem, observer)?;
                (
                    outcome.state.archive,
                    outcome.state.generation,
                    outcome.completed,
                    outcome.resumed_from,
                )
            }
            SearchStrategy::Default => {
                let outcome = run_default_search(experiment, &problem, run_dir, options, observer)?;
                (
                    outcome.archive,
                    outcome.batches,
                    outcome.completed,
                    outcome.resumed_from,
                )
            }
        };
    let mut scores = archive
        .pareto_front()
        .into_iter()
        .map(|r| problem.score_of_evaluated(&r.genes, &r.evaluation))
        .collect::<Result<Vec<_>, _>>()?;
    scores.sort_by(|a, b| a.error.total_cmp(&b.error));
    let test_errors: Vec<Option<f64>> = if options.skip_test {
        vec![None; scores.len()]
    } else {
        scores
            .par_iter()
            .map(|s| problem.test_error(s).map(Some))
            .collect::<Result<Vec<_>, _>>()?
    };
    let solutions = scores
        .into_iter()
        .zip(test_errors)
        .enumerate()
        .map(|(index, (score, test_error))| FrontSolution {
            index,
            genes_display: score.bits.display_in(problem.codec()),
            score,
            test_error,
        })
        .collect();
    let front = FrontFile {
        experiment: experiment.name.clone(),
        kind: experiment.kind,
        layout: problem.layout(),
        model: model.name(),
        platform: platform.map(|p| p.name().to_string()),
        objective_names: problem
            .objective_names()
            .into_iter()
            .map(String::from)
            .collect(),
        limits,
        n_evaluations: archive.len(),
        generations,
        completed,
        resumed_from,
        beacons: problem.beacons().map(|b| b.records()).unwrap_or_default(),
        solutions,
        layer_reuse: model.reuse_report(),
    };
    if let Some(reuse) = &front.layer_reuse {
        tracing::info!(experiment = %experiment.name, "{}", reuse.describe());
    }
    let path = run_dir.join(FRONT_FILE);
    write_json_atomic(&path, &front).map_err(|source| RunError::Io {
        path,
        action: "writing the front",
        source,
    })?;
    Ok(front)
}
