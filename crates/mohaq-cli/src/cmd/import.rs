//! `mohaq import`: a PyTorch LSTM/GRU state_dict (safetensors) as a mohaq bundle.

use std::path::PathBuf;

use mohaq_app::byom::{import_pytorch, ImportOptions};
use mohaq_app::decoder_tuning::{tune_model_file, TuneOptions};
use mohaq_sru::decode::TuningGrid;

/// Arguments of `mohaq import`.
#[derive(clap::Args)]
pub struct Args {
    /// The state_dict, saved with safetensors (`save_file(model.state_dict(), ...)`).
    #[arg(long)]
    pytorch: PathBuf,
    /// Architecture TOML: [model] with kind = "lstm" or "gru", sizes, layers, directions.
    #[arg(long)]
    arch: PathBuf,
    /// Bundle to write (weights + decoder statistics), for eval, search and forward.
    #[arg(long)]
    out: PathBuf,
    /// Corpus directory whose training split gives the decoder statistics (default:
    /// $MOHAQ_DATA or ../shared/data).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Module prefix of the recurrent tensors (overrides [model.names] rnn; "" for none).
    #[arg(long)]
    rnn_prefix: Option<String>,
    /// Module prefix of the projections (overrides [model.names] proj).
    #[arg(long)]
    proj_prefix: Option<String>,
    /// Module prefix of the output layer (overrides [model.names] fc).
    #[arg(long)]
    fc_prefix: Option<String>,
    /// Estimate the decoder statistics on the TIMIT sample's training speakers only.
    #[arg(long)]
    no_kathleen: bool,
    /// Replace an existing --out file.
    #[arg(long)]
    force: bool,
    /// Then tune the decoder parameters on dev (as `mohaq tune-decoder --model OUT`, default
    /// grid) and store them in the bundle; without it the bundle keeps the default decoder.
    #[arg(long)]
    tune_decoder: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let data_dir = args.data.unwrap_or_else(mohaq_sru::data::default_data_dir);
    let summary = import_pytorch(&ImportOptions {
        pytorch: args.pytorch,
        arch: args.arch,
        out: args.out,
        data_dir: data_dir.clone(),
        rnn_prefix: args.rnn_prefix,
        proj_prefix: args.proj_prefix,
        fc_prefix: args.fc_prefix,
        include_kathleen: !args.no_kathleen,
        force: args.force,
    })
    .map_err(|e| anyhow::anyhow!(e))?;
    outln!(
        "imported {}: {} tensors, {} parameters",
        summary.config.describe(),
        summary.tensors,
        summary.parameters
    );
    for (name, weights, macs) in &summary.layers {
        outln!("  {name:<4} {weights:>9} weights {macs:>9} MACs/frame");
    }
    outln!(
        "{} genes; decoder statistics from {} training utterances; wrote {}",
        summary.genes,
        summary.train_utterances,
        summary.out.display()
    );
    if args.tune_decoder {
        let report = tune_model_file(&TuneOptions {
            model: summary.out.clone(),
            out: None,
            data_dir,
            grid: TuningGrid::default(),
            report_test: false,
        })
        .map_err(|e| anyhow::anyhow!(e))?;
        outln!(
            "decoder tuned on dev: PER {:.2}% -> {:.2}% ({} points, {:.0} s); stored in {}",
            report.dev_per_before,
            report.dev_per_after,
            report.outcome.evaluated,
            report.seconds,
            report.written.display()
        );
    }
    Ok(())
}
