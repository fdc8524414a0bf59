//! `mohaq search`: run (or resume) the quantization search an experiment file describes.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use mohaq_beacon::Experiment;
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
}

/// A progress bar over generations, driven by the engine's observer. Not constructed until the
/// SRU evaluator is wired into `run` (see the bail below).
#[allow(dead_code)]
pub struct GenerationBar(pub ProgressBar);

#[allow(dead_code)]
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
    let experiment = Experiment::from_file(&args.experiment)?;
    let out = args
        .out
        .unwrap_or_else(|| Path::new("runs").join(&experiment.name));
    for path in [&experiment.model.config, &experiment.model.weights] {
        if !path.is_file() {
            bail!(
                "{}: model file `{}` does not exist (train a model with `mohaq train`, or fix \
                 key `model` of the experiment)",
                args.experiment.display(),
                path.display()
            );
        }
    }
    if let Some(p) = &experiment.platform {
        mohaq_hw::Platform::from_toml_file(p)
            .with_context(|| format!("platform of {}", args.experiment.display()))?;
    }
    let _ = (args.data, out);
    bail!(
        "searching needs the quantized SRU evaluator of mohaq-sru, which this build does not \
         integrate yet"
    )
}
