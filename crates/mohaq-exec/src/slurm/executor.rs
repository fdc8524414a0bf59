//! Submitting a batch as a job array, tracking it, resubmitting what failed, collecting results.
//!
//! A task is done when its result file exists; a task that has left the queue (`squeue`)
//! without one failed or was cancelled, and is resubmitted up to `max_resubmits` times before
//! the batch fails with an error naming the job and its log. Tasks already finished are never
//! submitted, and tasks a killed coordinator left queued or running are adopted, not
//! resubmitted: the ledger says which job runs them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::commands::{final_state, sbatch_array, scancel, squeue_active};
use super::interrupt::InterruptGuard;
use super::ledger::{task_id, Ledger, Submission};
use super::script::sbatch_script;
use crate::batch::{BatchDir, JobBatch};
use crate::config::SlurmConfig;
use crate::error::ExecError;
use crate::fsio::write_atomic;
use crate::{Executor, JobHandler};

/// How often `squeue` may fail in a row (a controller restarting) before the batch fails.
const SQUEUE_RETRIES: u32 = 5;

/// Runs batches on Slurm; every batch gets a folder under `root` (on a filesystem the nodes
/// share).
#[derive(Debug, Clone)]
pub struct SlurmExecutor {
    config: SlurmConfig,
    root: PathBuf,
    worker: Vec<String>,
    workdir: PathBuf,
}

/// Tasks out on the cluster: task → array job running it.
type Running = BTreeMap<usize, String>;

impl SlurmExecutor {
    /// `worker` is the program and leading arguments a task runs (`[/path/mohaq, worker]`);
    /// tasks start in the current directory, so relative paths mean the same as here.
    pub fn new(
        config: SlurmConfig,
        root: impl Into<PathBuf>,
        worker: Vec<String>,
    ) -> Result<Self, ExecError> {
        config.validate().map_err(ExecError::Invalid)?;
        if worker.is_empty() {
            return Err(ExecError::Invalid(
                "the Slurm executor needs a worker command".into(),
            ));
        }
        let workdir = std::env::current_dir().map_err(|source| ExecError::Io {
            path: PathBuf::from("."),
            action: "finding the current directory",
            source,
        })?;
        Ok(Self {
            config,
            root: root.into(),
            worker,
            workdir,
        })
    }

    pub fn config(&self) -> &SlurmConfig {
        &self.config
    }

    /// The folder batches are kept in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn submit(
        &self,
        dir: &BatchDir,
        script: &Path,
        ledger: &mut Ledger,
        tasks: &[usize],
        running: &mut Running,
    ) -> Result<(), ExecError> {
        if tasks.is_empty() {
            return Ok(());
        }
        let job = sbatch_array(script, tasks)?;
        tracing::info!(job, tasks = tasks.len(), batch = %dir.path().display(), "submitted to Slurm");
        ledger.submissions.push(Submission {
            job: job.clone(),
            tasks: tasks.to_vec(),
        });
        ledger.save(dir.path())?;
        for &t in tasks {
            running.insert(t, job.clone());
        }
        Ok(())
    }

    /// Waits one poll interval, in short steps so Ctrl-C is seen at once.
    fn sleep(&self, guard: &InterruptGuard) -> bool {
        let end = Instant::now() + Duration::from_secs_f64(self.config.poll_seconds);
        while Instant::now() < end {
            if guard.interrupted() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50).min(end - Instant::now()));
        }
        !guard.interrupted()
    }
}

fn ids(running: &Running) -> Vec<String> {
    running.iter().map(|(&t, job)| task_id(job, t)).collect()
}

impl Executor for SlurmExecutor {
    fn describe(&self) -> String {
        match &self.config.partition {
            Some(p) => format!("slurm (partition {p})"),
            None => "slurm".into(),
        }
    }

    fn shard_size(&self) -> Option<usize> {
        Some(self.config.shard_size)
    }

    fn run_batch(
        &self,
        batch: &JobBatch,
        _local: &dyn JobHandler,
    ) -> Result<Vec<Value>, ExecError> {
        let n = batch.inputs.len();
        if n == 0 {
            return Ok(Vec::new());
        }
        let dir = BatchDir::prepare(&self.root, batch)?;
        let mut results = (0..n)
            .map(|i| dir.result(i))
            .collect::<Result<Vec<_>, _>>()?;
        let pending: Vec<usize> = (0..n).filter(|&i| results[i].is_none()).collect();
        if pending.is_empty() {
            return Ok(results.into_iter().flatten().collect());
        }
        let script = dir.path().join("submit.sh");
        let text = sbatch_script(
            &self.config,
            &dir,
            &format!("mohaq-{}", batch.label),
            &self.workdir,
            &self.worker,
        );
        write_atomic(&script, text.as_bytes()).map_err(|source| ExecError::Io {
            path: script.clone(),
            action: "writing the sbatch script",
            source,
        })?;
        let mut ledger = Ledger::load(dir.path())?;
        let guard = InterruptGuard::install();
        let active = squeue_active()?;
        let mut attempts = vec![0u32; n];
        let mut running = Running::new();
        let mut fresh = Vec::new();
        for &t in &pending {
            match ledger.last_array_job(t) {
                Some(job) if active.contains(&task_id(job, t)) => {
                    running.insert(t, job.to_string());
                    attempts[t] = 1;
                }
                _ => fresh.push(t),
            }
        }
        tracing::info!(
            batch = %batch.label,
            jobs = n,
            finished = n - pending.len(),
            adopted = running.len(),
            "running a batch on Slurm"
        );
        self.submit(&dir, &script, &mut ledger, &fresh, &mut running)?;
        for &t in &fresh {
            attempts[t] += 1;
        }
        let mut squeue_failures = 0;
        while !running.is_empty() {
            if !self.sleep(&guard) {
                let jobs = ids(&running);
                let _ = scancel(&jobs);
                return Err(ExecError::Interrupted { jobs });
            }
            // The queue first, then the results: a task gone from the queue has written its
            // result by then if it ever will.
            let active = match squeue_active() {
                Ok(a) => {
                    squeue_failures = 0;
                    a
                }
                Err(e) if squeue_failures < SQUEUE_RETRIES => {
                    squeue_failures += 1;
                    tracing::warn!(error = %e, "squeue failed; retrying");
                    continue;
                }
                Err(e) => {
                    let _ = scancel(&ids(&running));
                    return Err(e);
                }
            };
            let mut resubmit = Vec::new();
            for (t, job) in running.clone() {
                if let Some(r) = dir.result(t)? {
                    results[t] = Some(r);
                    running.remove(&t);
                    continue;
                }
                let id = task_id(&job, t);
                if active.contains(&id) {
                    continue;
                }
                running.remove(&t);
                let state = final_state(&id);
                let log = dir.log_path(t, &job);
                if attempts[t] > self.config.max_resubmits {
                    let _ = scancel(&ids(&running));
                    return Err(ExecError::JobFailed {
                        batch: batch.label.clone(),
                        index: t,
                        job: id,
                        attempts: attempts[t],
                        state,
                        log,
                    });
                }
                tracing::warn!(job = %id, state, log = %log.display(), "task ended without a result; resubmitting");
                resubmit.push(t);
            }
            if let Err(e) = self.submit(&dir, &script, &mut ledger, &resubmit, &mut running) {
                let _ = scancel(&ids(&running));
                return Err(e);
            }
            for &t in &resubmit {
                attempts[t] += 1;
            }
        }
        drop(guard);
        Ok(results
            .into_iter()
            .map(|r| r.expect("every task has a result when none is running"))
            .collect())
    }
}
