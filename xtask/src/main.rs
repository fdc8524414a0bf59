//! Project automation. `cargo xtask reproduce [--quick]` reruns the paper's experiments; the
//! logic lives in `mohaq_app::reproduce` and `mohaq_app::report`.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use mohaq_app::lstm_reproduce::{append_lstm_section, reproduce_lstm};
use mohaq_app::model_comparison::read_digest;
use mohaq_app::progress::{GenerationProgress, Progress};
use mohaq_app::report::write_report;
use mohaq_app::reproduce::{reproduce_hardware, ModelChoice, ReproduceConfig};
use mohaq_app::sru_reproduce::reproduce_sru;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Rerun the paper's experiments on the shipped model and data, write results/REPORT.md.
    Reproduce {
        /// Small budgets, same code paths (≤ 10 minutes on 2 cores).
        #[arg(long)]
        quick: bool,
        /// Run only the hardware-model comparison (E4), which needs no trained model.
        #[arg(long)]
        hardware_only: bool,
        /// Output folder.
        #[arg(long, default_value = "results")]
        out: PathBuf,
        /// Corpus folder (default: the experiments' `data.dir`, MOHAQ_DATA or ../shared/data).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Run E0-E3 on another SRU: a name under models/ (`sru-256` = models/sru-256.toml +
        /// models/sru-256.safetensors) or a path to either file of such a pair.
        #[arg(long)]
        model: Option<String>,
        /// Show another run's claims and E0 table beside this run's (its output folder, e.g.
        /// the `results` of a run on the shipped model). Repeatable.
        #[arg(long)]
        beside: Vec<PathBuf>,
        /// Also run E5 on Bit Fusion for a `--model` run (always run on the shipped model): tens
        /// of thousands of real evaluations, hours for a paper-size model on 2 cores.
        #[arg(long)]
        bitfusion_e5: bool,
    },
    /// Print the engine's speed figures: evaluation frames/s (both model sizes, w8 and w4), the
    /// exhaustive SiLago front with and without prefix reuse, training frames/s. Not run by CI.
    Bench {
        /// Leave out the exhaustive front (the longest part, minutes on 2 cores).
        #[arg(long)]
        skip_exhaustive: bool,
    },
}

mod bench;

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn main() -> anyhow::Result<()> {
    mohaq_app::logging::init_stderr();
    match Cli::parse().command {
        Command::Bench { skip_exhaustive } => bench::run(&workspace_root(), skip_exhaustive),
        Command::Reproduce {
            quick,
            hardware_only,
            out,
            data,
            model,
            beside,
            bitfusion_e5,
        } => {
            let workspace = workspace_root();
            let out_dir = if out.is_absolute() {
                out
            } else {
                workspace.join(out)
            };
            let mut config = ReproduceConfig::new(workspace.clone(), out_dir.clone(), quick);
            config.model = model
                .map(|m| ModelChoice::resolve(&workspace, &m))
                .transpose()?;
            config.bitfusion_e5 = bitfusion_e5 || config.model.is_none();
            // Read before the long run, so a wrong folder fails at once.
            let beside = beside
                .iter()
                .map(|dir| read_digest(dir))
                .collect::<Result<Vec<_>, _>>()?;
            let mut model_results = None;
            let mut lstm_results = None;
            if !hardware_only {
                let model = match &config.model {
                    Some(choice) => choice.section.weights.clone(),
                    None => workspace.join("models/sru-default.safetensors"),
                };
                if !model.is_file() {
                    bail!(
                        "the trained model {} is missing: E0-E3 need it (train it with \
                         `mohaq train --config models/sru-default.toml --out ...` and copy the \
                         weights there). E4 alone: `cargo xtask reproduce --hardware-only`",
                        model.display()
                    );
                }
                eprintln!("E0-E3 on {} ...", model.display());
                let mut exhaustive = None::<Progress>;
                let mut progress = |done: usize, total: usize| {
                    exhaustive
                        .get_or_insert_with(|| Progress::new("E2 exhaustive front", total as u64))
                        .set(done as u64, total as u64, "candidates evaluated");
                };
                let results = reproduce_sru(
                    &config,
                    data.as_deref(),
                    &mut GenerationProgress::new(0),
                    &mut progress,
                )
                .context("E0-E3")?;
                model_results = Some(results);
                eprintln!("LSTM: compression and Bit Fusion searches ...");
                lstm_results = Some(
                    reproduce_lstm(&config, data.as_deref(), &mut GenerationProgress::new(0))
                        .context("LSTM searches")?,
                );
            }
            eprintln!("E4: hardware models on the paper workload ...");
            let hardware = reproduce_hardware(&config).context("E4")?;
            write_report(&out_dir, quick, &hardware, model_results.as_ref(), &beside)
                .context("writing the report")?;
            if let Some(lstm) = &lstm_results {
                append_lstm_section(&out_dir, lstm.as_ref()).context("the LSTM section")?;
            }
            eprintln!("wrote {}", out_dir.join("REPORT.md").display());
            Ok(())
        }
    }
}
