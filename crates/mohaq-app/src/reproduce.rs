//! `cargo xtask reproduce`: the paper's experiments E0-E4, the search-quality comparison E5, and
//! `results/REPORT.md`.
//!
//! E4 (hardware models) needs no model. E0-E3 run on any [`ErrorModel`] + [`Retrainer`]; the
//! xtask passes the shipped trained SRU. `quick` shrinks budgets (population, generations,
//! beacon epochs) but runs the same code.

use std::path::{Path, PathBuf};

use mohaq_evo::{exhaustive_front, igd, recovered_count, EvaluationArchive, Observer};
use mohaq_hw::{Platform, ShareOfMaximum};
use serde::{Deserialize, Serialize};

use crate::hardware::{hardware_report, HardwareReport};
use crate::paper;
use crate::search_quality::{
    compare_strategies, Comparison, E5_BUDGETS, E5_QUICK_BUDGETS, E5_QUICK_SEEDS, E5_SEEDS,
};
use mohaq_beacon::error::RunError;
use mohaq_beacon::experiment::{Experiment, ExperimentKind, ModelSection};
use mohaq_beacon::fsio::write_json_atomic;
use mohaq_beacon::limits::ResolvedLimits;
use mohaq_beacon::model::{fp32_size_mb, size_mb, ErrorModel, Retrainer};
use mohaq_beacon::problem::MohaqProblem;
use mohaq_beacon::run::{run_search, FrontFile, RunOptions};
use mohaq_evo::strategy::lookup::LookupProblem;
use mohaq_evo::strategy::memo::MemoProblem;

/// Where things are and how much to run.
#[derive(Debug, Clone)]
pub struct ReproduceConfig {
    /// Workspace root (platforms/, experiments/, shared spec next to it).
    pub workspace: PathBuf,
    /// Output folder (`results/`).
    pub out_dir: PathBuf,
    pub quick: bool,
    /// The SRU that E0-E3 run on instead of the experiments' own (`--model`); the experiments'
    /// names get its name as a suffix, so its run folders and exhaustive archive are its own.
    pub model: Option<ModelChoice>,
    /// Whether E5 also compares the strategies on Bit Fusion, where each evaluation is a real
    /// PTQ evaluation (~50,000 of them at the full budgets). SiLago's E5 reads E2's archive and
    /// always runs. `cargo xtask reproduce` turns Bit Fusion's off for `--model` runs, where
    /// a paper-size model would need hours for it, unless `--bitfusion-e5` asks.
    pub bitfusion_e5: bool,
}

/// A model picked for E0-E3 by `cargo xtask reproduce --model`.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelChoice {
    /// Short name (the config's file stem), appended to the experiments' names.
    pub name: String,
    pub section: ModelSection,
}

impl ModelChoice {
    /// `NAME` (a model under `models/`: `models/NAME.toml` + `models/NAME.safetensors`) or a
    /// path to either file of such a pair; both must exist.
    pub fn resolve(workspace: &Path, given: &str) -> Result<Self, RunError> {
        let path = Path::new(given);
        let stem_path = if path.extension().is_some() || path.components().count() > 1 {
            let absolute = if path.is_absolute() {
                path.to_path_buf()
            } else {
                std::env::current_dir()
                    .map(|d| d.join(path))
                    .unwrap_or_else(|_| path.to_path_buf())
            };
            absolute.with_extension("")
        } else {
            workspace.join("models").join(given)
        };
        let config = stem_path.with_extension("toml");
        let weights = stem_path.with_extension("safetensors");
        for (file, what) in [(&config, "model config"), (&weights, "trained weights")] {
            if !file.is_file() {
                return Err(RunError::Invalid(format!(
                    "--model {given}: the {what} {} is missing (a model is a pair NAME.toml + \
                     NAME.safetensors, as in models/)",
                    file.display()
                )));
            }
        }
        let name = stem_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| given.to_string());
        Ok(Self {
            name,
            section: ModelSection { config, weights },
        })
    }
}

impl ReproduceConfig {
    /// E0-E4 of the workspace's shipped experiments on their own models, written to `out_dir`.
    pub fn new(workspace: PathBuf, out_dir: PathBuf, quick: bool) -> Self {
        Self {
            workspace,
            out_dir,
            quick,
            model: None,
            bitfusion_e5: true,
        }
    }
    pub fn platforms(&self) -> PathBuf {
        self.workspace.join("platforms")
    }
    pub fn reference_csv(&self) -> PathBuf {
        self.workspace
            .join("../shared/spec/reference/bitfusion_fc.csv")
    }
    pub fn experiment_path(&self, name: &str) -> PathBuf {
        self.workspace
            .join("experiments")
            .join(format!("{name}.toml"))
    }
}

/// Optimisation subset of `--quick` searches (first N dev utterances).
pub const QUICK_DEV_UTTERANCES: usize = 12;

/// Test subset of `--quick` (first N test utterances; the shipped test split has 32).
pub const QUICK_TEST_UTTERANCES: usize = 32;

/// Optimisation subset of the `--quick` SiLago search and its exhaustive front.
pub const QUICK_SILAGO_DEV_UTTERANCES: usize = 4;

/// Widths of the `--quick` SiLago search: 2^8 = 256 candidates instead of 3^8 = 6,561, so the
/// exhaustive true front fits the quick budget on 2 cores (same code path, smaller space).
pub const QUICK_SILAGO_WIDTHS: [u32; 2] = [4, 8];

/// NSGA-II population of `--quick` searches (at most).
pub const QUICK_POP_SIZE: usize = 20;

/// Offspring per generation of `--quick` searches (at most).
pub const QUICK_OFFSPRINGS: usize = 10;

/// Generations of `--quick` searches (at most). Enough for the beacon-based search to reach
/// promising candidates and retrain a beacon, so `--quick` exercises retraining too.
pub const QUICK_GENERATIONS: usize = 20;

/// Shrinks an experiment's budget for `--quick`: the same code paths, fewer evaluations.
pub fn quick_budget(mut e: Experiment) -> Experiment {
    e.search.pop_size = e.search.pop_size.min(QUICK_POP_SIZE);
    e.search.n_offsprings = e.search.n_offsprings.min(QUICK_OFFSPRINGS);
    e.search.n_gen = e.search.n_gen.min(QUICK_GENERATIONS);
    if let Some(b) = e.beacons.as_mut() {
        b.epochs = b.epochs.min(1);
        b.max_beacons = b.max_beacons.min(2);
        b.fixed.truncate(2);
    }
    e.data.dev_utterances = if e.data.dev_utterances == 0 {
        QUICK_DEV_UTTERANCES
    } else {
        e.data.dev_utterances.min(QUICK_DEV_UTTERANCES)
    };
    if e.kind == ExperimentKind::SpeedupEnergy {
        // E2 also evaluates all 6,561 candidates exhaustively; on a smaller subset that fits
        // the quick budget. Search and exhaustive front use the same subset, so they compare.
        e.data.dev_utterances = QUICK_SILAGO_DEV_UTTERANCES;
        e.search.widths = Some(QUICK_SILAGO_WIDTHS.to_vec());
    }
    e.data.test_utterances = if e.data.test_utterances == 0 {
        QUICK_TEST_UTTERANCES
    } else {
        e.data.test_utterances.min(QUICK_TEST_UTTERANCES)
    };
    e.name = format!("{}-quick", e.name);
    e
}

/// Runs E4 and writes its JSON.
pub fn reproduce_hardware(config: &ReproduceConfig) -> Result<HardwareReport, RunError> {
    let report = hardware_report(&config.platforms(), &config.reference_csv())?;
    save_json(&config.out_dir.join("e4_hardware.json"), &report)?;
    Ok(report)
}

fn save_json<T: Serialize>(path: &Path, value: &T) -> Result<(), RunError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| RunError::Io {
            path: parent.to_path_buf(),
            action: "creating the results folder",
            source,
        })?;
    }
    write_json_atomic(path, value).map_err(|source| RunError::Io {
        path: path.to_path_buf(),
        action: "writing results",
        source,
    })
}

/// One row of the E0 PTQ table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PtqRow {
    pub name: String,
    pub genes: String,
    pub test_error: f64,
    pub size_mb: f64,
    pub compression: f64,
}

/// A search's front with the figures the claims need.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResult {
    pub front: FrontFile,
    pub run_dir: PathBuf,
    /// Wall time of this invocation's search (a resumed run counts only what it redid), seconds.
    pub seconds: f64,
}

/// Candidates between two saves of the exhaustive archive (a multiple of its chunk).
const EXHAUSTIVE_SAVE_EVERY: usize = crate::exhaustive::LOCAL_CHUNK;

/// E2's exhaustive check.
#[derive(Debug, Clone, Serialize)]
pub struct ExhaustiveCheck {
    /// Wall time of this invocation's enumeration, seconds (cached candidates cost nothing).
    pub seconds: f64,
    pub candidates: usize,
    pub true_front: Vec<Vec<f64>>,
    pub search_front: Vec<Vec<f64>>,
    pub recovered: usize,
    pub igd: Option<f64>,
}

/// Our figure for one paper claim.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClaimRow {
    pub claim: String,
    pub paper: String,
    pub ours: String,
    pub definition: String,
}

/// E0-E3 results.
#[derive(Debug, Clone, Serialize)]
pub struct ModelResults {
    pub model: String,
    /// How the model's error is measured (the decoder parameters), if the model says.
    pub error_note: Option<String>,
    pub float_error: f64,
    pub fp32_size_mb: f64,
    /// Which layer table the hardware costs are computed on (the model's own, not the paper's).
    pub workload_note: String,
    pub ptq: Vec<PtqRow>,
    pub compression: SearchResult,
    /// E1 with the default search at the same budget (its front and the paper run's form the
    /// union reference of E1's indicators).
    pub compression_default: Option<SearchResult>,
    pub silago: SearchResult,
    pub silago_exhaustive: Option<ExhaustiveCheck>,
    pub bitfusion: SearchResult,
    pub bitfusion_beacon: SearchResult,
    /// QAT epochs each beacon was retrained for (`[beacons] epochs`, after `--quick`).
    pub beacon_epochs: Option<usize>,
    /// E5: the strategies compared on SiLago (against its true front) and Bit Fusion.
    pub search_quality: Vec<Comparison>,
    pub claims: Vec<ClaimRow>,
}

/// E0: uniform and the authors' mixed configurations, test error and size.
pub fn ptq_table<M: ErrorModel>(model: &M) -> Result<Vec<PtqRow>, RunError> {
    let fp32 = fp32_size_mb(model.workload());
    paper::ptq_table_configs()
        .into_iter()
        .map(|(name, bits)| {
            let size = size_mb(model.workload(), &bits);
            Ok(PtqRow {
                name,
                genes: bits.display_genes(),
                test_error: model.test_error(&bits, None)?,
                size_mb: size,
                compression: fp32 / size,
            })
        })
        .collect()
}

/// Reads a shipped experiment, shrunk for `--quick`, with the paper's NSGA-II as its search:
/// E1-E3 reproduce the paper's settings (E5 compares the default search with them).
pub fn load_experiment(config: &ReproduceConfig, name: &str) -> Result<Experiment, RunError> {
    let mut e = Experiment::from_file(&config.experiment_path(name))?.resolve(&config.workspace);
    e.search.strategy = Some(mohaq_beacon::SearchStrategy::Paper);
    if let Some(choice) = config
        .model
        .as_ref()
        .filter(|_| MODEL_EXPERIMENTS.contains(&name))
    {
        e.model = choice.section.clone();
        e.name = format!("{}-{}", e.name, choice.name);
    }
    Ok(if config.quick { quick_budget(e) } else { e })
}

/// The platform of a resolved experiment (its path is absolute).
fn load_platform(e: &Experiment) -> Result<Option<Platform>, RunError> {
    e.platform
        .as_ref()
        .map(Platform::from_toml_file)
        .transpose()
        .map_err(RunError::from)
}

/// Runs the shipped experiment `name` on `model` in `<out>/runs/<name>`, with the paper's
/// NSGA-II.
pub fn reproduce_search<M: ErrorModel>(
    config: &ReproduceConfig,
    name: &str,
    model: &M,
    retrainer: Option<&dyn Retrainer<M::Weights>>,
    observer: &mut dyn Observer,
) -> Result<SearchResult, RunError> {
    let experiment = load_experiment(config, name)?;
    let run_dir = config.out_dir.join("runs").join(&experiment.name);
    run_in(&experiment, &run_dir, model, retrainer, observer)
}

/// Runs the shipped experiment `name` with the default search (same evaluation budget) in
/// `<out>/runs/<name>-default`: E1's comparison and the second front of its union reference.
pub fn reproduce_default_search<M: ErrorModel>(
    config: &ReproduceConfig,
    name: &str,
    model: &M,
    observer: &mut dyn Observer,
) -> Result<SearchResult, RunError> {
    let mut experiment = load_experiment(config, name)?;
    experiment.search.strategy = Some(mohaq_beacon::SearchStrategy::Default);
    let run_dir = config
        .out_dir
        .join("runs")
        .join(format!("{}-default", experiment.name));
    run_in(&experiment, &run_dir, model, None, observer)
}

fn run_in<M: ErrorModel>(
    experiment: &Experiment,
    run_dir: &Path,
    model: &M,
    retrainer: Option<&dyn Retrainer<M::Weights>>,
    observer: &mut dyn Observer,
) -> Result<SearchResult, RunError> {
    let platform = load_platform(experiment)?;
    // The default store (`<out>/runs/beacon-store`, next to the run directories), so that
    // `mohaq export` finds a solution's beacon from the run directory alone.
    let options = RunOptions::default();
    tracing::info!(experiment = %experiment.name, run_dir = %run_dir.display(), "search");
    let start = std::time::Instant::now();
    let front = run_search(
        experiment,
        model,
        retrainer,
        platform.as_ref(),
        run_dir,
        &options,
        observer,
    )?;
    let seconds = start.elapsed().as_secs_f64();
    tracing::info!(experiment = %experiment.name, seconds = seconds.round(), "search done");
    Ok(SearchResult {
        front,
        run_dir: run_dir.to_path_buf(),
        seconds,
    })
}

/// Where E2 caches the exhaustive evaluations of `experiment` and E5 reads them. Keyed by the
/// experiment's name: a quick run's archive (other subset, other widths) never serves a full run.
fn exhaustive_archive_path(config: &ReproduceConfig, experiment: &Experiment) -> PathBuf {
    config
        .out_dir
        .join(format!("e2_exhaustive_archive-{}.json", experiment.name))
}

/// The exhaustive true front of the SiLago experiment and how much of it the search found.
/// Evaluations are cached in `<out>/e2_exhaustive_archive-<experiment>.json`, seeded with the search's own.
pub fn silago_exhaustive<M: ErrorModel>(
    config: &ReproduceConfig,
    model: &M,
    search: &SearchResult,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ExhaustiveCheck, RunError> {
    let experiment = load_experiment(config, "silago")?;
    let platform = load_platform(&experiment)?;
    let limits = ResolvedLimits::for_model(&experiment, model, platform.as_ref())?;
    let problem = MohaqProblem::new(&experiment, model, platform.as_ref(), limits)?;
    // Keyed by the experiment's name: a quick run's archive (other subset, other widths) never
    // serves a full run.
    let cache_path = exhaustive_archive_path(config, &experiment);
    let mut archive: EvaluationArchive = std::fs::read_to_string(&cache_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let nsga = mohaq_beacon::run::nsga2_config(&experiment);
    if let Ok(Some(state)) =
        mohaq_evo::checkpoint::load(&search.run_dir, &nsga, mohaq_evo::Problem::space(&problem))
    {
        for r in state.archive.records() {
            archive.insert(r.genes.clone(), r.evaluation.clone());
        }
    }
    // Save the archive every few chunks too: a killed run then loses at most that much work.
    tracing::info!(experiment = %experiment.name, cached = archive.len(), "exhaustive front");
    let start = std::time::Instant::now();
    let mut save_error = None;
    let result = exhaustive_front(
        &problem,
        &mut archive,
        10_000,
        crate::exhaustive::LOCAL_CHUNK,
        |done, total, so_far| {
            progress(done, total);
            if done % EXHAUSTIVE_SAVE_EVERY == 0 && save_error.is_none() {
                save_error = save_json(&cache_path, so_far).err();
            }
        },
    );
    if let Some(error) = save_error {
        return Err(error);
    }
    save_json(&cache_path, &archive)?;
    let true_front: Vec<Vec<f64>> = result?
        .into_iter()
        .map(|r| r.evaluation.objectives)
        .collect();
    let search_front: Vec<Vec<f64>> = search
        .front
        .solutions
        .iter()
        .map(|s| problem.evaluation_of(&s.score).objectives)
        .collect();
    Ok(ExhaustiveCheck {
        seconds: start.elapsed().as_secs_f64(),
        candidates: archive.len(),
        recovered: recovered_count(&true_front, &search_front),
        igd: igd(&search_front, &true_front).ok(),
        true_front,
        search_front,
    })
}

/// Where E5's comparison is saved in the output folder.
const E5_FILE: &str = "e5_search_quality.json";

/// E5's comparison from an earlier invocation of the same run (same experiments, budgets and
/// seeds), so a rerun, e.g. to add `--beside`, or a resumed killed run does not redo hours of
/// strategy runs: every search behind it is deterministic for its seed. `None` when there is
/// none or it belongs to other settings; a file that cannot be parsed is an error naming it.
fn finished_search_quality(
    config: &ReproduceConfig,
    path: &Path,
) -> Result<Option<Vec<Comparison>>, RunError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(RunError::Io {
                path: path.to_path_buf(),
                action: "reading the finished E5 comparison",
                source,
            })
        }
    };
    let saved: Vec<Comparison> = serde_json::from_str(&text).map_err(|e| {
        RunError::Invalid(format!(
            "{}: malformed E5 comparison ({e}); delete it to recompute E5",
            path.display()
        ))
    })?;
    let (budgets, seeds) = e5_plan(config);
    let mut expected = vec![load_experiment(config, "silago")?.name];
    if config.bitfusion_e5 {
        expected.push(load_experiment(config, "bitfusion")?.name);
    }
    let same = saved.len() == expected.len()
        && saved
            .iter()
            .zip(&expected)
            .all(|(c, name)| &c.experiment == name && c.budgets == budgets && c.seeds == seeds);
    Ok(same.then_some(saved))
}

/// E5 budgets and seeds (reduced for `--quick`).
fn e5_plan(config: &ReproduceConfig) -> (&'static [usize], &'static [u64]) {
    if config.quick {
        (&E5_QUICK_BUDGETS, &E5_QUICK_SEEDS)
    } else {
        (&E5_BUDGETS, &E5_SEEDS)
    }
}

/// E5 on SiLago: every strategy reads E2's exhaustive archive through a lookup problem (exact:
/// the archive holds what evaluating gives) and is scored against the true front.
pub fn silago_search_quality<M: ErrorModel>(
    config: &ReproduceConfig,
    model: &M,
) -> Result<Comparison, RunError> {
    let experiment = load_experiment(config, "silago")?;
    let platform = load_platform(&experiment)?;
    let limits = ResolvedLimits::for_model(&experiment, model, platform.as_ref())?;
    let problem = MohaqProblem::new(&experiment, model, platform.as_ref(), limits)?;
    let cache_path = exhaustive_archive_path(config, &experiment);
    let text = std::fs::read_to_string(&cache_path).map_err(|source| RunError::Io {
        path: cache_path.clone(),
        action: "reading the E2 exhaustive archive for E5",
        source,
    })?;
    let archive: EvaluationArchive = serde_json::from_str(&text).map_err(|e| {
        RunError::Invalid(format!("{}: malformed archive: {e}", cache_path.display()))
    })?;
    let true_front: Vec<Vec<f64>> = archive
        .pareto_front()
        .into_iter()
        .map(|r| r.evaluation.objectives.clone())
        .collect();
    let (budgets, seeds) = e5_plan(config);
    tracing::info!(experiment = %experiment.name, "E5: strategies against the true front");
    compare_strategies(
        &experiment.name,
        names_of(&problem),
        &LookupProblem::new(&problem, &archive),
        Some((true_front, archive.len())),
        budgets,
        seeds,
    )
}

/// E5 on Bit Fusion: the strategies evaluate the model through one shared cache, scored
/// against the union of all their fronts (the space is too large to enumerate).
pub fn bitfusion_search_quality<M: ErrorModel>(
    config: &ReproduceConfig,
    model: &M,
) -> Result<Comparison, RunError> {
    let experiment = load_experiment(config, "bitfusion")?;
    let platform = load_platform(&experiment)?;
    let limits = ResolvedLimits::for_model(&experiment, model, platform.as_ref())?;
    let problem = MohaqProblem::new(&experiment, model, platform.as_ref(), limits)?;
    let memo = MemoProblem::new(&problem);
    let (budgets, seeds) = e5_plan(config);
    tracing::info!(experiment = %experiment.name, "E5: strategies against the union of fronts");
    let c = compare_strategies(
        &experiment.name,
        names_of(&problem),
        &memo,
        None,
        budgets,
        seeds,
    )?;
    tracing::info!(evaluations = memo.evaluated(), "E5 Bit Fusion done");
    Ok(c)
}

fn names_of<M: ErrorModel>(problem: &MohaqProblem<'_, M>) -> Vec<String> {
    problem
        .objective_names()
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// E0-E3 on `model`, then the claims.
pub fn reproduce_model<M: ErrorModel + Retrainer<<M as ErrorModel>::Weights>>(
    config: &ReproduceConfig,
    model: &M,
    observer: &mut dyn Observer,
    exhaustive_progress: &mut dyn FnMut(usize, usize),
) -> Result<ModelResults, RunError> {
    reproduce_models(config, &|_| model, observer, exhaustive_progress)
}

/// The shipped experiments E0-E3 run, in order.
pub const MODEL_EXPERIMENTS: [&str; 4] = ["compression", "silago", "bitfusion", "bitfusion-beacon"];

/// E0-E3 where each experiment may use its own instance of the model (e.g. its own
/// optimisation subset); `model_for` maps an experiment name to it. E0 uses the compression
/// experiment's.
pub fn reproduce_models<'m, M: ErrorModel + Retrainer<<M as ErrorModel>::Weights> + 'm>(
    config: &ReproduceConfig,
    model_for: &dyn Fn(&str) -> &'m M,
    observer: &mut dyn Observer,
    exhaustive_progress: &mut dyn FnMut(usize, usize),
) -> Result<ModelResults, RunError> {
    let model = model_for("compression");
    tracing::info!("E0: PTQ table");
    let ptq = ptq_table(model)?;
    save_json(&config.out_dir.join("e0_ptq.json"), &ptq)?;
    let compression = reproduce_search(config, "compression", model, None, observer)?;
    let compression_default = reproduce_default_search(config, "compression", model, observer)?;
    let silago_model = model_for("silago");
    let silago = reproduce_search(config, "silago", silago_model, None, observer)?;
    let silago_exhaustive = Some(silago_exhaustive(
        config,
        silago_model,
        &silago,
        exhaustive_progress,
    )?);
    let bitfusion = reproduce_search(config, "bitfusion", model_for("bitfusion"), None, observer)?;
    let e5_path = config.out_dir.join(E5_FILE);
    let search_quality = match finished_search_quality(config, &e5_path)? {
        Some(done) => {
            tracing::info!(path = %e5_path.display(), "E5: reusing the finished comparison");
            done
        }
        None => {
            let mut search_quality = vec![silago_search_quality(config, silago_model)?];
            if config.bitfusion_e5 {
                search_quality.push(bitfusion_search_quality(config, model_for("bitfusion"))?);
            }
            save_json(&e5_path, &search_quality)?;
            search_quality
        }
    };
    let beacon_model = model_for("bitfusion-beacon");
    let bitfusion_beacon = reproduce_search(
        config,
        "bitfusion-beacon",
        beacon_model,
        Some(beacon_model),
        observer,
    )?;
    let mut results = ModelResults {
        model: model.name(),
        error_note: model.error_note(),
        float_error: model.float_error()?,
        fp32_size_mb: fp32_size_mb(model.workload()),
        workload_note: workload_note(model.workload()),
        ptq,
        compression,
        compression_default: Some(compression_default),
        silago,
        silago_exhaustive,
        bitfusion,
        bitfusion_beacon,
        beacon_epochs: load_experiment(config, "bitfusion-beacon")?
            .beacons
            .map(|b| b.epochs),
        search_quality,
        claims: Vec::new(),
    };
    results.claims = claims(config, &results, model.workload())?;
    save_json(&config.out_dir.join("e0_e3_results.json"), &results)?;
    Ok(results)
}

/// States that E1-E3's costs come from the model's own layer table, and how its output layer
/// differs from the paper's (1904 context-dependent states; E4 evaluates that workload).
fn workload_note(workload: &mohaq_hw::Workload) -> String {
    let layers = workload.layers();
    let macs: u64 = layers.iter().map(|l| l.macs).sum();
    let paper = mohaq_hw::Workload::paper_sru();
    let paper_outputs = paper
        .layers()
        .last()
        .and_then(|fc| fc.shape)
        .map_or(0, |(_, outputs)| outputs);
    let output = layers.last().map_or(String::new(), |fc| match fc.shape {
        Some((inputs, outputs)) => format!(
            "; its output layer {} is {inputs} → {outputs}, where the paper's has \
             {paper_outputs} outputs (context-dependent states)",
            fc.name
        ),
        None => String::new(),
    });
    format!(
        "hardware costs of E1-E3 are computed on this model's own layer table ({} matrix \
         products, {macs} MACs per frame){output}; E4 evaluates the paper's workload",
        layers.len()
    )
}

/// Test error of the all-16-bit model: the baseline error increases are measured from.
fn baseline_test_error(r: &ModelResults) -> f64 {
    r.ptq
        .iter()
        .find(|p| p.name == "uniform 16")
        .map_or(f64::NAN, |p| p.test_error)
}

/// Best value of `f` over front solutions whose test error is within `pp` of the baseline.
fn best_within<F: Fn(&mohaq_beacon::run::FrontSolution) -> f64>(
    front: &FrontFile,
    baseline: f64,
    pp: f64,
    f: F,
) -> Option<f64> {
    front
        .solutions
        .iter()
        .filter(|s| s.test_error.is_some_and(|t| t <= baseline + pp))
        .map(f)
        .fold(None, |best: Option<f64>, v| {
            Some(best.map_or(v, |b| b.max(v)))
        })
}

/// "Error gain" reduction of beacon-based over inference-only search: at each speedup reached by
/// the beacon-based front, the lowest test error each front achieves at that speedup or more;
/// the largest difference and where.
pub fn beacon_gain_reduction(inference: &FrontFile, beacon: &FrontFile) -> Option<(f64, f64)> {
    let best_at = |front: &FrontFile, s: f64| {
        front
            .solutions
            .iter()
            .filter(|x| x.score.cost.speedup.is_some_and(|v| v >= s - 1e-12))
            .filter_map(|x| x.test_error)
            .fold(f64::INFINITY, f64::min)
    };
    beacon
        .solutions
        .iter()
        .filter_map(|b| b.score.cost.speedup)
        .filter_map(|s| {
            let (io, bb) = (best_at(inference, s), best_at(beacon, s));
            (io.is_finite() && bb.is_finite()).then_some((io - bb, s))
        })
        .fold(None, |best: Option<(f64, f64)>, d| match best {
            Some(b) if b.0 >= d.0 => Some(b),
            _ => Some(d),
        })
}

fn claims(
    config: &ReproduceConfig,
    r: &ModelResults,
    workload: &mohaq_hw::Workload,
) -> Result<Vec<ClaimRow>, RunError> {
    let base = baseline_test_error(r);
    let fp32 = r.fp32_size_mb;
    let ratio = |s: &mohaq_beacon::run::FrontSolution| fp32 / s.score.cost.size_mb;
    let fmt_x = |v: Option<f64>| v.map_or("none within the limit".into(), |x| format!("{x:.1}x"));
    let mut rows = vec![
        ClaimRow {
            claim: "PTQ compresses the SRU without significant error increase".into(),
            paper: format!("up to {}x", paper::CLAIM_COMPRESSION_X),
            ours: fmt_x(best_within(&r.compression.front, base, 0.5, ratio)),
            definition: format!(
                "largest FP32/size ratio on the E1 front with test PER ≤ all-16 test PER ({base:.2} %) + 0.5 pp"
            ),
        },
        ClaimRow {
            claim: "compression at +1.5 pp (v1)".into(),
            paper: format!("{}x", paper::CLAIM_COMPRESSION_V1_X),
            ours: fmt_x(best_within(&r.compression.front, base, paper::CLAIM_COMPRESSION_V1_PP, ratio)),
            definition: "largest ratio on the E1 front with test PER ≤ all-16 + 1.5 pp".into(),
        },
    ];
    let experiment = load_experiment(config, "silago")?;
    if let Some(platform) = load_platform(&experiment)? {
        let front = &r.silago.front;
        let shares: Vec<(f64, mohaq_hw::Shares)> = front
            .solutions
            .iter()
            .filter(|s| s.test_error.is_some_and(|t| t <= base + 0.5))
            .filter_map(|s| {
                let pairs = s.score.bits.pairs();
                let cost = platform.evaluate(workload, &pairs).ok()?;
                platform
                    .share_of_maximum(workload, &cost)
                    .ok()
                    .map(|sh| (s.test_error.unwrap_or(0.0), sh))
            })
            .collect();
        let best = |f: &dyn Fn(&mohaq_hw::Shares) -> Option<ShareOfMaximum>| {
            shares
                .iter()
                .filter_map(|(_, s)| f(s))
                .fold(None, |b: Option<ShareOfMaximum>, v| match b {
                    Some(b) if b.of_gain >= v.of_gain => Some(b),
                    _ => Some(v),
                })
        };
        let show = |s: Option<ShareOfMaximum>| {
            s.map_or("no solution within +0.5 pp".into(), |s| {
                format!(
                    "{:.0} % of the gain ({:.0} % of the best)",
                    100.0 * s.of_gain,
                    100.0 * s.of_best
                )
            })
        };
        rows.push(ClaimRow {
            claim: "SiLago: share of the maximum possible speedup at minor error increase".into(),
            paper: format!("{:.0} % (v1: 80 %)", 100.0 * paper::CLAIM_SILAGO_SPEEDUP_SHARE),
            ours: show(best(&|s| Some(s.speedup))),
            definition: "best E2 front solution with test PER ≤ all-16 + 0.5 pp; (S−S16)/(Smax−S16) and S/Smax".into(),
        });
        rows.push(ClaimRow {
            claim: "SiLago: share of the maximum possible energy saving".into(),
            paper: format!(
                "{:.0} % (v1: 64 %)",
                100.0 * paper::CLAIM_SILAGO_ENERGY_SHARE
            ),
            ours: show(best(&|s| s.energy)),
            definition: "same solutions; (E16−E)/(E16−Emin) and Emin/E".into(),
        });
    }
    let gain = beacon_gain_reduction(&r.bitfusion.front, &r.bitfusion_beacon.front);
    rows.push(ClaimRow {
        claim: "Bit Fusion: beacon-based search reduces the error gain of inference-only search".into(),
        paper: format!("up to {} pp (v1: {} pp)", paper::CLAIM_BEACON_GAIN_PP, paper::CLAIM_BEACON_GAIN_V1_PP),
        ours: gain.map_or("no comparable solutions".into(), |(d, s)| format!("{d:.2} pp (at speedup ≥ {s:.1})")),
        definition: "max over the beacon front's speedups s of [best inference-only test PER at ≥ s] − [best beacon-based test PER at ≥ s]".into(),
    });
    let reach = r
        .bitfusion_beacon
        .front
        .solutions
        .iter()
        .filter_map(|s| s.score.cost.speedup)
        .fold(0.0, f64::max);
    rows.push(ClaimRow {
        claim: "Bit Fusion: reachable speedup over 16 bits (v1)".into(),
        paper: format!("{}x", paper::CLAIM_BITFUSION_SPEEDUP_V1),
        ours: format!("{reach:.1}x"),
        definition: "largest paper-formula speedup on the beacon-based front (all feasible: size ≤ limit, PER ≤ limit)".into(),
    });
    Ok(rows)
}
