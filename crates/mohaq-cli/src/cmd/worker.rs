//! `mohaq worker BATCH_DIR INDEX`: what a Slurm array task runs (see mohaq_beacon::worker).

use std::path::PathBuf;

/// Arguments of `mohaq worker`.
#[derive(clap::Args)]
pub struct Args {
    /// Batch folder written by the coordinator (`<run dir>/exec/<batch>`).
    batch_dir: PathBuf,
    /// Task index (Slurm passes `$SLURM_ARRAY_TASK_ID`).
    index: usize,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let outcome = mohaq_app::worker::serve(&args.batch_dir, args.index)?;
    eprintln!(
        "task {} of {}: {outcome:?}",
        args.index,
        args.batch_dir.display()
    );
    Ok(())
}
