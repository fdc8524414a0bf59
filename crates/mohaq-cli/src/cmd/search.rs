//! `mohaq search`: run (or resume) the quantization search an experiment file describes.

use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use mohaq_app::sru_model::SruModel;
use mohaq_beacon::{run_search, Experiment, Retrainer, RunOptions};
use mohaq_evo::{Control, GenerationReport, Observer};

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
    /// Stop after exactly this many evaluations (the experiment's `n_gen` no longer limits the
    /// run); the front of everything evaluated so far is written.
    #[arg(long)]
    max_evaluations: Option<usize>,
    /// Stop after the first generation that ends past this many seconds of wall time; the front
    /// so far is written (and the checkpoint lets a rerun continue).
    #[arg(long)]
    time_budget: Option<f64>,
}

/// Stops the search once its wall-time budget is spent, then defers to the progress bar.
struct TimeBudget<'a> {
    start: std::time::Instant,
    seconds: Option<f64>,
    inner: &'a mut dyn Observer,
}

impl Observer for TimeBudget<'_> {
    fn on_generation(&mut self, r: &GenerationReport) -> Control {
        let inner = self.inner.on_generation(r);
        match self.seconds {
            Some(s) if self.start.elapsed().as_secs_f64() >= s => Control::Stop,
            _ => inner,
        }
    }
}

/// A progress bar over generations, driven by the engine's observer.
pub struct GenerationBar(pub ProgressBar);

impl GenerationBar {
    pub fn new(n_gen: usize) -> Self {
        let bar = ProgressBar::new(n_gen as u64);
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] gen {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Self(bar)
    }
}

impl Observer for GenerationBar {
    fn on_generation(&mut self, r: &GenerationReport) -> Control {
        self.0.set_position(r.generation as u64);
        self.0.set_message(format!(
            "{} evaluations, {} feasible, front {}",
            r.n_evaluations, r.feasible, r.front_size
        ));
        Control::Continue
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut experiment = Experiment::from_file(&args.experiment)?;
    if let Some(t) = args.time_budget {
        anyhow::ensure!(
            t.is_finite() && t > 0.0,
            "--time-budget must be a positive number of seconds, got {t}"
        );
    }
    let mut n_gen_shown = experiment.search.n_gen;
    if let Some(max) = args.max_evaluations {
        anyhow::ensure!(max > 0, "--max-evaluations must be at least 1");
        let s = &experiment.search;
        // Enough generations for the budget even if some children are cache hits.
        n_gen_shown = 1 + max
            .saturating_sub(s.pop_size)
            .div_ceil(s.n_offsprings.max(1));
        experiment.search.n_gen = usize::MAX / 2;
    }
    let out = args
        .out
        .unwrap_or_else(|| Path::new("runs").join(&experiment.name));
    let platform = experiment
        .platform
        .as_ref()
        .map(mohaq_hw::Platform::from_toml_file)
        .transpose()
        .with_context(|| format!("platform of {}", args.experiment.display()))?;
    eprintln!("loading the model and the dev/test subsets ...");
    let model = SruModel::for_experiment(&experiment, Path::new("."), args.data.as_deref())
        .with_context(|| format!("model of {}", args.experiment.display()))?;
    let (dev, test) = model.subset_sizes();
    eprintln!(
        "optimisation subset: {dev} dev utterances; test: {test} utterances; run dir {}",
        out.display()
    );
    let retrainer: Option<&dyn Retrainer<_>> = experiment.uses_beacons().then_some(&model as _);
    let mut bar = GenerationBar::new(n_gen_shown);
    let options = RunOptions {
        max_evaluations: args.max_evaluations,
        ..RunOptions::default()
    };
    let mut observer = TimeBudget {
        start: std::time::Instant::now(),
        seconds: args.time_budget,
        inner: &mut bar,
    };
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
    outln!(
        "{} solutions on the front ({} evaluations, {} generations{}); objectives {}",
        front.solutions.len(),
        front.n_evaluations,
        front.generations,
        front
            .resumed_from
            .map_or(String::new(), |g| format!(", resumed from generation {g}")),
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
