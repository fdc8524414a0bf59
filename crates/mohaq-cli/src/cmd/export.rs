//! `mohaq export`: one solution of a finished search as a quantized model file.

use std::path::PathBuf;

use mohaq_app::export::export_solution;

/// Arguments of `mohaq export`.
#[derive(clap::Args)]
pub struct Args {
    /// Run directory of a finished `mohaq search` (holds front.json and experiment.toml).
    run_dir: PathBuf,
    /// Solution number as `mohaq report RUN_DIR` lists it (0 = lowest error).
    #[arg(long)]
    solution: usize,
    /// Output file: packed integer weights with their widths and scales (safetensors). A
    /// companion `<name>.rest.safetensors` (elementwise parameters, decoder statistics, frozen
    /// activation thresholds) is written next to it; keep the two together.
    #[arg(long)]
    out: PathBuf,
    /// Corpus folder, for calibrating the activation thresholds on the optimisation subset
    /// (default: the experiment's `data.dir`, MOHAQ_DATA or ../shared/data).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Replace `--out` (and its companion) if they exist; without it an existing file is kept
    /// and the export refused.
    #[arg(long)]
    force: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let summary = export_solution(
        &args.run_dir,
        args.solution,
        &args.out,
        args.data.as_deref(),
        args.force,
    )?;
    outln!(
        "solution {} ({}){}: {} bytes of packed weights in {}; companion {}",
        args.solution,
        summary.genes,
        summary
            .beacon
            .map_or(String::new(), |b| format!(", weights of beacon {b}")),
        summary.packed_bytes,
        summary.packed.display(),
        summary.companion.display()
    );
    Ok(())
}
