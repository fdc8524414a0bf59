//! The executor flags `mohaq search` and `mohaq exhaustive` share; they override the
//! experiment's `[executor]` table.

use std::path::Path;

use anyhow::Context;
use mohaq_app::worker::{dispatch_for, WorkerModel};
use mohaq_beacon::dispatch::Dispatch;
use mohaq_beacon::Experiment;
use mohaq_exec::ExecutorOverrides;

/// Where the expensive, independent work runs.
#[derive(clap::Args)]
pub struct ExecutorArgs {
    /// `local` (this process, the default) or `slurm` (job arrays on the cluster; the run
    /// directory must be on a filesystem the nodes share).
    #[arg(long)]
    executor: Option<String>,
    /// Slurm partition.
    #[arg(long)]
    partition: Option<String>,
    /// Slurm time limit per task, e.g. 04:00:00.
    #[arg(long)]
    time_limit: Option<String>,
    /// CPUs per Slurm task.
    #[arg(long)]
    cpus_per_task: Option<u32>,
    /// Memory per Slurm task, e.g. 16G.
    #[arg(long)]
    mem: Option<String>,
    /// A further sbatch option, e.g. --sbatch=--account=speech (repeatable).
    #[arg(long = "sbatch")]
    sbatch: Vec<String>,
}

impl ExecutorArgs {
    /// The dispatch of a run in `run_dir` of `experiment` (None: everything in this process).
    pub fn dispatch(
        &self,
        experiment: &Experiment,
        run_dir: &Path,
        data: Option<&Path>,
    ) -> anyhow::Result<Option<Dispatch>> {
        let overrides = ExecutorOverrides {
            kind: self.executor.clone(),
            partition: self.partition.clone(),
            time_limit: self.time_limit.clone(),
            cpus_per_task: self.cpus_per_task,
            mem: self.mem.clone(),
            extra_sbatch: self.sbatch.clone(),
        };
        let config = experiment
            .executor
            .clone()
            .unwrap_or_default()
            .with_overrides(&overrides)
            .map_err(anyhow::Error::msg)?;
        let model = WorkerModel::Sru {
            experiment: Box::new(experiment.clone()),
            data: data.map(Path::to_path_buf),
        };
        dispatch_for(&config, run_dir, model).context("setting up the executor")
    }
}
