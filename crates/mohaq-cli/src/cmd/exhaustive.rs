//! `mohaq exhaustive`: every candidate of a small search space evaluated, the true front kept.

use std::path::{Path, PathBuf};

use anyhow::Context;
use mohaq_app::exhaustive::exhaustive_run;
use mohaq_app::progress::CandidateProgress;
use mohaq_app::sru_model::SruModel;
use mohaq_beacon::Experiment;

/// Arguments of `mohaq exhaustive`.
#[derive(clap::Args)]
pub struct Args {
    /// Experiment TOML (its search space must be small: SiLago's 3^8 = 6,561 candidates).
    #[arg(long)]
    experiment: PathBuf,
    /// Corpus folder (overrides the experiment's `data.dir` and MOHAQ_DATA).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Output folder: `exhaustive_front.json`, and the executor's batches under `exec/`.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    executor: super::executor::ExecutorArgs,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let experiment = Experiment::from_file(&args.experiment)?;
    let out = args
        .out
        .unwrap_or_else(|| Path::new("runs").join(format!("{}-exhaustive", experiment.name)));
    let platform = experiment
        .platform
        .as_ref()
        .map(mohaq_hw::Platform::from_toml_file)
        .transpose()
        .with_context(|| format!("platform of {}", args.experiment.display()))?;
    // Widths the platform cannot run are refused now, not after minutes of loading data.
    mohaq_beacon::problem::check_platform(&experiment, platform.as_ref())
        .with_context(|| args.experiment.display().to_string())?;
    eprintln!("loading the model and the dev subset ...");
    let model = SruModel::for_experiment(&experiment, Path::new("."), args.data.as_deref())
        .with_context(|| format!("model of {}", args.experiment.display()))?;
    let dispatch = args
        .executor
        .dispatch(&experiment, &out, args.data.as_deref())?;
    let mut bar = CandidateProgress::new();
    let result = exhaustive_run(
        &experiment,
        &model,
        platform.as_ref(),
        dispatch,
        &out,
        |done, total, archive| {
            bar.update(done, total, archive);
        },
    )?;
    bar.0.finish();
    outln!(
        "{} candidates, {} on the true front, {:.1} s on {}; wrote {}",
        result.candidates,
        result.front.len(),
        result.seconds,
        result.executor,
        result.path.display()
    );
    Ok(())
}
