//! `mohaq search`: run (or resume) the quantization search an experiment file describes.

use std::path::{Path, PathBuf};

use anyhow::Context;
use mohaq_app::progress::{GenerationProgress, TimeBudget};
use mohaq_app::search_model::SearchModel;
use mohaq_beacon::{run_search, Experiment, Retrainer, RunOptions};

/// Arguments of `mohaq search`.
#[derive(clap::Args)]
pub struct Args {
    /// Experiment TOML (see experiments/*.toml): model, data, platform, search budget,
    /// constraints, beacons.
    #[arg(long)]
    experiment: PathBuf,
    /// Corpus folder (overrides the experiment's `data.dir` and MOHAQ_DATA).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Run directory: checkpoint, beacons and the final front go here. Rerunning with the same
    /// directory resumes a killed run without repeating finished evaluations.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    executor: super::executor::ExecutorArgs,
    /// Stop after exactly this many evaluations (the experiment's `n_gen` no longer limits the
    /// run); the front of everything evaluated so far is written.
    #[arg(long)]
    max_evaluations: Option<usize>,
    /// Stop after the first generation that ends past this many seconds of wall time; the front
    /// so far is written (and the checkpoint lets a rerun continue).
    #[arg(long)]
    time_budget: Option<f64>,
    /// Cap of the layer-output cache in MiB (0 disables it; overrides `[search] cache_mb`,
    /// default 2048). Changes the time only, never a result.
    #[arg(long)]
    cache_mb: Option<u64>,
    /// Run the MOHAQ authors' NSGA-II generation by generation instead of the default search
    /// (surrogate-assisted: the error predicted, the hardware objectives exact), as `[search] strategy =
    /// "paper"` does; an experiment that names `strategy = "default"` is refused with it.
    #[arg(long)]
    paper: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut experiment = Experiment::from_file(&args.experiment)?.resolve(Path::new("."));
    if let Some(t) = args.time_budget {
        anyhow::ensure!(
            t.is_finite() && t > 0.0,
            "--time-budget must be a positive number of seconds, got {t}"
        );
    }
    if let Some(mb) = args.cache_mb {
        experiment.search.cache_mb = Some(mb);
    }
    if args.paper {
        anyhow::ensure!(
            experiment.search.strategy != Some(mohaq_beacon::SearchStrategy::Default),
            "--paper conflicts with `[search] strategy = \"default\"` in {}",
            args.experiment.display()
        );
        experiment.search.strategy = Some(mohaq_beacon::SearchStrategy::Paper);
    }
    if let Some(max) = args.max_evaluations {
        anyhow::ensure!(max > 0, "--max-evaluations must be at least 1");
        experiment = experiment.without_generation_limit();
    }
    let out = args
        .out
        .unwrap_or_else(|| Path::new("runs").join(&experiment.name));
    // Fail fast on a busy run directory, before minutes of loading (the search locks it again).
    drop(mohaq_beacon::run::lock_run_dir(&out)?);
    let platform = experiment
        .platform
        .as_ref()
        .map(mohaq_hw::Platform::from_toml_file)
        .transpose()
        .with_context(|| format!("platform of {}", args.experiment.display()))?;
    // Widths the platform cannot run are refused now, not after minutes of loading data.
    mohaq_beacon::problem::check_platform(&experiment, platform.as_ref())
        .with_context(|| args.experiment.display().to_string())?;
    eprintln!("loading the model and the dev/test subsets ...");
    let model = SearchModel::for_experiment(&experiment, Path::new("."), args.data.as_deref())
        .with_context(|| format!("model of {}", args.experiment.display()))?;
    let (dev, test) = model.subset_sizes();
    eprintln!(
        "{} model; optimisation subset: {dev} dev utterances; test: {test} utterances; run dir {}",
        model.kind_name(),
        out.display()
    );
    let dispatch = args
        .executor
        .dispatch(&experiment, &out, args.data.as_deref())?;
    if let Some(d) = &dispatch {
        eprintln!(
            "large evaluation batches and beacon retraining run on {}",
            d.executor.describe()
        );
    }
    let retrainer: Option<&dyn Retrainer<_>> = experiment.uses_beacons().then_some(&model as _);
    let options = RunOptions {
        dispatch,
        max_evaluations: args.max_evaluations,
        ..RunOptions::default()
    };
    let mut bar = match (experiment.search.strategy(), args.max_evaluations) {
        (mohaq_beacon::SearchStrategy::Paper, None) => {
            GenerationProgress::new(experiment.search.n_gen)
        }
        // The budget, not `n_gen`, ends the run: count (and extrapolate) evaluations.
        (mohaq_beacon::SearchStrategy::Paper, Some(max)) => {
            GenerationProgress::evaluations(max.min(experiment.search.planned_evaluations()))
        }
        (mohaq_beacon::SearchStrategy::Default, _) => GenerationProgress::batches(),
    };
    let mut observer = TimeBudget::new(args.time_budget, &mut bar);
    let front = run_search(
        &experiment,
        &model,
        retrainer,
        platform.as_ref(),
        &out,
        &options,
        &mut observer,
    )?;
    bar.0.finish();
    let unit = match experiment.search.strategy() {
        mohaq_beacon::SearchStrategy::Paper => "generations",
        mohaq_beacon::SearchStrategy::Default => "batches",
    };
    outln!(
        "{} solutions on the front ({} evaluations, {} {}{}); objectives {}",
        front.solutions.len(),
        front.n_evaluations,
        front.generations,
        unit,
        front
            .resumed_from
            .map_or(String::new(), |g| format!(", resumed after {g} {unit}")),
        front.objective_names.join(", ")
    );
    for s in &front.solutions {
        outln!(
            "#{:<3} {}  error {:.2} %  test {}  size {:.3} MB{}",
            s.index,
            s.genes_display,
            s.score.error,
            s.test_error.map_or("-".into(), |t| format!("{t:.2} %")),
            s.score.cost.size_mb,
            s.score
                .cost
                .speedup
                .map_or(String::new(), |x| format!("  speedup {x:.2}x"))
        );
    }
    outln!(
        "wrote {}",
        out.join(mohaq_beacon::run::FRONT_FILE).display()
    );
    Ok(())
}
