//! `mohaq forward`: the log-probabilities of a feature matrix, to compare with another tool.

use std::path::PathBuf;

use mohaq_app::byom::forward_file;

/// Arguments of `mohaq forward`.
#[derive(clap::Args)]
pub struct Args {
    /// Model bundle (LSTM/GRU from `mohaq import`, or an SRU from `mohaq train`).
    #[arg(long)]
    model: PathBuf,
    /// Feature matrix: CSV (one frame per line, comma-separated) or .npy (2-D float32/64),
    /// used as given (no normalisation).
    #[arg(long)]
    features: PathBuf,
    /// CSV of log-probabilities to write (one frame per line).
    #[arg(long)]
    out: PathBuf,
    /// Widths: one for all layers, one per matrix layer, or two per layer in gene order.
    /// Omit for the float model.
    #[arg(long)]
    bits: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let s = forward_file(&args.model, &args.features, &args.out, args.bits.as_deref())
        .map_err(|e| anyhow::anyhow!(e))?;
    outln!(
        "{} frames × {} classes ({}) → {}",
        s.frames,
        s.classes,
        s.bits.as_deref().unwrap_or("float"),
        args.out.display()
    );
    Ok(())
}
