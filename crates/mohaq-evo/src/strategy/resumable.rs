//! Checkpoint and resume for any [`Strategy`](crate::Strategy), by replay.
//!
//! A strategy is a deterministic function of its seed and of the evaluations it gets back, and
//! evaluations are pure. So a checkpoint need not capture a strategy's internal state: it holds
//! every evaluation made so far, and a resumed run starts the strategy afresh with those
//! answered from the checkpoint. The strategy then asks for the same candidates in the same
//! order, gets the same answers without evaluating them again, and continues from where the
//! killed run stopped: the result equals an uninterrupted run's.
//!
//! [`Replay`] wraps the problem: it answers from the checkpoint, evaluates the rest, rewrites the
//! checkpoint atomically after every batch that evaluated something, and reports that batch to an
//! [`Observer`] (which may stop the run: the strategy then gets an error for its next new
//! candidate and the run ends with what it has). The strategy runs on a scoped thread so that the
//! observer stays on the caller's thread and need not be `Send`.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::archive::EvaluationArchive;
use crate::duplicates::{GeneKey, GeneKeyMap, GeneKeySet};
use crate::error::{CheckpointError, Nsga2Error};
use crate::observer::{Control, GenerationReport, Observer};
use crate::problem::{Evaluation, Genes, Problem, Space};
use crate::strategy::{LayerOption, LayerwiseProblem, StrategyRun};

/// The checkpoint's file name inside a run directory (beside the NSGA-II engine's own).
pub const STRATEGY_CHECKPOINT_FILE: &str = "strategy_checkpoint.json";
const FORMAT_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct CheckpointFile {
    format_version: u32,
    /// The strategy and its settings, seed included: a checkpoint of another one is refused.
    identity: String,
    space: Space,
    /// Batches that evaluated something, across resumes.
    batches: usize,
    archive: EvaluationArchive,
}

/// Why a replayed evaluation failed.
#[derive(Debug, Error)]
pub enum ReplayError<E: std::error::Error + 'static> {
    #[error(transparent)]
    Inner(E),
    #[error("the run was stopped (time budget or observer); the checkpoint lets a rerun continue")]
    Stopped,
}

/// How a driven run ended.
#[derive(Debug, Clone)]
pub struct ReplayOutcome {
    /// Every evaluation of the run, in order.
    pub archive: EvaluationArchive,
    /// Batches that evaluated something, across resumes.
    pub batches: usize,
    /// False when the observer stopped the run.
    pub completed: bool,
    /// Batches the checkpoint held when the run started, if it resumed.
    pub resumed_from: Option<usize>,
}

struct ReplayState {
    archive: EvaluationArchive,
    batches: usize,
    stopped: bool,
    save_error: Option<CheckpointError>,
}

struct Channel {
    reports: Sender<GenerationReport>,
    controls: Receiver<Control>,
}

/// `inner` answered from (and recorded into) a run directory's strategy checkpoint.
pub struct Replay<'a, P> {
    inner: &'a P,
    path: PathBuf,
    identity: String,
    budget: usize,
    resumed_from: Option<usize>,
    state: Mutex<ReplayState>,
    channel: Mutex<Option<Channel>>,
}

/// Clears the report channel when the strategy's thread ends (normally or by panic), which ends
/// the caller's report loop.
struct ClearOnDrop<'c>(&'c Mutex<Option<Channel>>);

impl Drop for ClearOnDrop<'_> {
    fn drop(&mut self) {
        if let Ok(mut c) = self.0.lock() {
            *c = None;
        }
    }
}

impl<'a, P: Problem> Replay<'a, P> {
    /// Opens `run_dir`'s checkpoint (none: a fresh run) for the strategy described by
    /// `identity`; `budget` is what progress reports count towards.
    pub fn open(
        inner: &'a P,
        run_dir: &Path,
        identity: impl Into<String>,
        budget: usize,
    ) -> Result<Self, CheckpointError> {
        let identity = identity.into();
        let path = run_dir.join(STRATEGY_CHECKPOINT_FILE);
        let stored =
            crate::checkpoint::read_versioned(&path, FORMAT_VERSION, |f: &CheckpointFile| {
                f.format_version
            })?;
        let (archive, batches, resumed_from) = match stored {
            Some(file) => {
                if file.identity != identity {
                    return Err(CheckpointError::Mismatch {
                        path,
                        field: "strategy",
                        detail: format!("stored `{}`, this run `{identity}`", file.identity),
                    });
                }
                if &file.space != inner.space() {
                    return Err(CheckpointError::Mismatch {
                        path,
                        field: "space",
                        detail: "the stored decision space is another problem's".into(),
                    });
                }
                (file.archive, file.batches, Some(file.batches))
            }
            None => (EvaluationArchive::new(), 0, None),
        };
        Ok(Self {
            inner,
            path,
            identity,
            budget,
            resumed_from,
            state: Mutex::new(ReplayState {
                archive,
                batches,
                stopped: false,
                save_error: None,
            }),
            channel: Mutex::new(None),
        })
    }

    fn state(&self) -> MutexGuard<'_, ReplayState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Evaluations in the checkpoint when the run started (answered without evaluating).
    pub fn replayed(&self) -> Option<usize> {
        self.resumed_from
    }

    fn save(&self, state: &ReplayState) -> Result<(), CheckpointError> {
        let file = CheckpointFile {
            format_version: FORMAT_VERSION,
            identity: self.identity.clone(),
            space: self.inner.space().clone(),
            batches: state.batches,
            archive: state.archive.clone(),
        };
        let json = serde_json::to_vec(&file).map_err(|source| CheckpointError::Json {
            path: self.path.clone(),
            source,
        })?;
        mohaq_fsio::write_atomic(&self.path, &json).map_err(|source| CheckpointError::Io {
            path: self.path.clone(),
            source,
        })
    }

    /// Reports a batch to the caller's observer (when driven) and returns its answer.
    fn report(&self, report: GenerationReport) -> Control {
        let channel = self.channel.lock().unwrap_or_else(|p| p.into_inner());
        let Some(c) = channel.as_ref() else {
            return Control::Continue;
        };
        if c.reports.send(report).is_err() {
            return Control::Continue;
        }
        c.controls.recv().unwrap_or(Control::Continue)
    }

    /// Runs `strategy_run` on this problem, reporting each batch to `observer` on this thread,
    /// and returns every evaluation made (including those replayed from the checkpoint).
    pub fn drive<F>(
        &self,
        observer: &mut dyn Observer,
        strategy_run: F,
    ) -> Result<ReplayOutcome, Nsga2Error>
    where
        F: FnOnce(&Self) -> Result<StrategyRun, Nsga2Error> + Send,
        P: Sync,
    {
        let (report_tx, report_rx) = channel();
        let (control_tx, control_rx) = channel();
        *self.channel.lock().unwrap_or_else(|p| p.into_inner()) = Some(Channel {
            reports: report_tx,
            controls: control_rx,
        });
        let result = std::thread::scope(|scope| {
            let worker = scope.spawn(|| {
                let _clear = ClearOnDrop(&self.channel);
                strategy_run(self)
            });
            for report in report_rx.iter() {
                if control_tx.send(observer.on_generation(&report)).is_err() {
                    break;
                }
            }
            worker.join()
        })
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let mut state = self.state();
        if let Some(error) = state.save_error.take() {
            return Err(error.into());
        }
        match result {
            Ok(run) => Ok(ReplayOutcome {
                archive: EvaluationArchive::from(run.evaluations),
                batches: state.batches,
                completed: true,
                resumed_from: self.resumed_from,
            }),
            Err(_) if state.stopped => Ok(ReplayOutcome {
                archive: state.archive.clone(),
                batches: state.batches,
                completed: false,
                resumed_from: self.resumed_from,
            }),
            Err(e) => Err(e),
        }
    }
}

impl<P: Problem> Problem for Replay<'_, P> {
    type Error = ReplayError<P::Error>;

    fn space(&self) -> &Space {
        self.inner.space()
    }

    fn n_objectives(&self) -> usize {
        self.inner.n_objectives()
    }

    fn n_constraints(&self) -> usize {
        self.inner.n_constraints()
    }

    fn evaluate(&self, genes: &[f64]) -> Result<Evaluation, Self::Error> {
        let mut results = self.evaluate_batch(&[genes.to_vec()]);
        results.pop().unwrap_or(Err(ReplayError::Stopped))
    }

    fn evaluate_batch(&self, batch: &[Genes]) -> Vec<Result<Evaluation, Self::Error>> {
        let mut state = self.state();
        let mut queued = GeneKeySet::default();
        let missing: Vec<Genes> = batch
            .iter()
            .filter(|g| !state.archive.contains(g) && queued.insert(GeneKey::of(g)))
            .cloned()
            .collect();
        let mut errors: GeneKeyMap<P::Error> = GeneKeyMap::default();
        if !missing.is_empty() && !state.stopped {
            let results = self.inner.evaluate_batch(&missing);
            let mut any = false;
            for (genes, result) in missing.iter().zip(results) {
                match result {
                    Ok(e) => any |= state.archive.insert(genes.clone(), e),
                    Err(e) => {
                        errors.insert(GeneKey::of(genes), e);
                    }
                }
            }
            if any {
                state.batches += 1;
                if let Err(e) = self.save(&state) {
                    state.save_error = Some(e);
                    state.stopped = true;
                } else {
                    let report = GenerationReport {
                        generation: state.batches,
                        n_gen: self.budget,
                        n_evaluations: state.archive.len(),
                        cache_hits: batch.len() - missing.len(),
                        feasible: state
                            .archive
                            .records()
                            .iter()
                            .filter(|r| r.evaluation.is_feasible())
                            .count(),
                        front_size: state.archive.pareto_front().len(),
                        hypervolume: None,
                    };
                    drop(state);
                    let control = self.report(report);
                    state = self.state();
                    if control == Control::Stop {
                        state.stopped = true;
                    }
                }
            }
        }
        batch
            .iter()
            .map(|g| match state.archive.get(g) {
                Some(e) => Ok(e.clone()),
                None => Err(errors
                    .remove(&GeneKey::of(g))
                    .map_or(ReplayError::Stopped, ReplayError::Inner)),
            })
            .collect()
    }
}

impl<P: LayerwiseProblem> LayerwiseProblem for Replay<'_, P> {
    fn error_objective(&self) -> usize {
        self.inner.error_objective()
    }

    fn layer_options(&self) -> Vec<Vec<LayerOption>> {
        self.inner.layer_options()
    }

    fn second_order_sensitivity(&self) -> Result<Option<Vec<Vec<f64>>>, Self::Error> {
        self.inner
            .second_order_sensitivity()
            .map_err(ReplayError::Inner)
    }

    fn evaluation_with_error(&self, genes: &[f64], error: f64) -> Option<Evaluation> {
        self.inner.evaluation_with_error(genes, error)
    }
}
