//! The Slurm executor: a batch becomes a job array whose tasks run the worker binary.
//!
//! Modules: `commands` (sbatch, squeue, scontrol, scancel), `script` (the sbatch script),
//! `ledger` (every submission of a batch, on disk, so a rerun adopts jobs still queued),
//! `interrupt` (Ctrl-C cancels this run's jobs), `executor` (submit, track, resubmit, collect),
//! `testing` (whether tests can reach a Slurm).

mod commands;
mod executor;
mod interrupt;
pub mod ledger;
mod script;
pub mod testing;

pub use commands::{scancel, squeue_active};
pub use executor::SlurmExecutor;
pub use ledger::Ledger;
