//! Beacon-based scoring (METHOD §6): promising candidates are scored on the retrained weights of
//! the nearest beacon, and the reported error is min(e₀, e_b).
//!
//! Decisions are made sequentially in candidate order (the PTQ errors before and the beacon
//! errors after are computed in parallel), so a run is the same at any thread count. The run's
//! beacons are listed in `<run dir>/beacons.json`, each with the candidate that created it, and
//! every score in `<run dir>/beacon_scores.json`; both are rewritten atomically. When a killed
//! generation is repeated after a resume, a beacon created by a candidate of the repeated batch
//! stays invisible until that candidate comes up again, and is then reused rather than
//! retrained: the repeat makes the same decisions as the first attempt.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use mohaq_evo::Genes;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dispatch::{Dispatch, RetrainContext, RetrainJob, RetrainOutcome, BEACON_RETRAIN};
use crate::error::{BeaconStoreError, ProblemError};
use crate::experiment::BeaconMode;
use crate::fsio::write_json_atomic;
use crate::genes::LayerBits;
use crate::model::{ErrorModel, Retrainer};
use crate::score::CandidateScore;
use crate::store::BeaconStore;

/// File names inside a run directory.
pub const BEACONS_FILE: &str = "beacons.json";
pub const SCORES_FILE: &str = "beacon_scores.json";

/// Resolved beacon settings (errors in % of the model at hand).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BeaconSettings {
    pub mode: BeaconMode,
    pub distance_threshold: u32,
    pub band: [f64; 2],
    pub min_speedup: f64,
    pub epochs: usize,
    pub max_beacons: usize,
    pub retrain_fc_activation_16: bool,
}

/// One retrained beacon of a run (beacon 0, the base model, is implied).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BeaconRecord {
    /// 1, 2, ... in creation order.
    pub index: usize,
    /// Key in the beacon store.
    pub key: String,
    /// Widths of the candidate it stands for (distance is measured to these).
    pub bits: LayerBits,
    /// Widths it was retrained at (FC input at 16 when the authors' rule is on).
    pub retrained_bits: LayerBits,
    /// The candidate that created it (dynamic mode), as genes.
    pub creator: Option<Genes>,
    /// Whether its weights came from the store instead of being retrained by this run.
    pub reused_from_store: bool,
    pub retrain_seconds: f64,
}

/// The beacons a run created or used, from `<run_dir>/beacons.json`.
pub fn load_records(run_dir: &Path) -> Result<Vec<BeaconRecord>, BeaconStoreError> {
    let path = run_dir.join(BEACONS_FILE);
    match read_json_if_present(&path)? {
        Some(records) => Ok(records),
        None => Err(BeaconStoreError::BadMetadata {
            path,
            message: "not found (was this a beacon-based search?)".into(),
        }),
    }
}

/// A candidate's score with the beacon weights it is still to be scored on.
type Decision<W> = (CandidateScore, Option<Arc<W>>);

struct Active<W> {
    record: BeaconRecord,
    weights: Arc<W>,
}

struct State<W> {
    beacons: Vec<Active<W>>,
    scores: BTreeMap<String, CandidateScore>,
}

/// The beacons of one run and the scores they gave.
pub struct BeaconSearch<'a, W> {
    settings: BeaconSettings,
    store: BeaconStore,
    retrainer: &'a dyn Retrainer<W>,
    run_dir: Option<PathBuf>,
    state: Mutex<State<W>>,
    /// Where beacons are retrained (in this process when `None`).
    dispatch: Option<Dispatch>,
}

fn genes_key(genes: &[f64]) -> String {
    genes
        .iter()
        .map(|g| format!("{g}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn run_io(path: &Path, action: &'static str) -> impl FnOnce(std::io::Error) -> BeaconStoreError {
    let path = path.to_path_buf();
    move |source| BeaconStoreError::Io {
        path,
        action,
        source,
    }
}

impl<'a, W: Send + Sync> BeaconSearch<'a, W> {
    /// Opens the beacons of a run: those listed in `<run_dir>/beacons.json` are loaded from the
    /// store (checksums verified; a beacon missing from the store is retrained).
    pub fn open(
        settings: BeaconSettings,
        store: BeaconStore,
        retrainer: &'a dyn Retrainer<W>,
        run_dir: Option<&Path>,
    ) -> Result<Self, BeaconStoreError> {
        let mut records: Vec<BeaconRecord> = Vec::new();
        let mut scores = BTreeMap::new();
        if let Some(dir) = run_dir {
            records = read_json_if_present(&dir.join(BEACONS_FILE))?.unwrap_or_default();
            scores = read_json_if_present(&dir.join(SCORES_FILE))?.unwrap_or_default();
        }
        let mut beacons = Vec::with_capacity(records.len());
        for record in records {
            let loaded =
                store.get_or_retrain(&record.retrained_bits, settings.epochs, retrainer)?;
            beacons.push(Active {
                record,
                weights: Arc::new(loaded.weights),
            });
        }
        Ok(Self {
            settings,
            store,
            retrainer,
            run_dir: run_dir.map(Path::to_path_buf),
            state: Mutex::new(State { beacons, scores }),
            dispatch: None,
        })
    }

    /// Retrains beacons through `dispatch`'s executor, one job per beacon, into the store
    /// (which must be on a filesystem the workers share).
    pub fn with_dispatch(mut self, dispatch: Dispatch) -> Self {
        self.dispatch = Some(dispatch);
        self
    }

    /// Retrains, through the executor, those of `bits` (widths as retrained) that the store
    /// lacks, one job each; returns the keys retrained now (not found in the store).
    fn retrain_remotely(&self, bits: &[LayerBits]) -> Result<HashSet<String>, BeaconStoreError> {
        let Some(dispatch) = &self.dispatch else {
            return Ok(HashSet::new());
        };
        let identity = self.retrainer.identity();
        let mut missing = Vec::new();
        for b in bits {
            let key = BeaconStore::key(&identity, b, self.settings.epochs);
            if self.store.meta(&key)?.is_none() && !missing.contains(b) {
                missing.push(*b);
            }
        }
        if missing.is_empty() {
            return Ok(HashSet::new());
        }
        let failed = |message: String| BeaconStoreError::Remote { message };
        let context = RetrainContext {
            model: dispatch.model.clone(),
            store_dir: self.store.dir().to_path_buf(),
            epochs: self.settings.epochs,
        };
        let inputs = missing
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| failed(e.to_string()))?;
        let context = serde_json::to_value(&context).map_err(|e| failed(e.to_string()))?;
        let batch = mohaq_exec::JobBatch::new(BEACON_RETRAIN, context, inputs);
        let local = RetrainJob {
            store: self.store.clone(),
            epochs: self.settings.epochs,
            retrainer: self.retrainer,
        };
        let results = dispatch
            .executor
            .run_batch(&batch, &local)
            .map_err(|e| failed(e.to_string()))?;
        let mut retrained = HashSet::new();
        for r in results {
            let outcome: RetrainOutcome = serde_json::from_value(r)
                .map_err(|e| failed(format!("malformed retraining result: {e}")))?;
            if !outcome.reused {
                retrained.insert(outcome.key);
            }
        }
        Ok(retrained)
    }

    pub fn settings(&self) -> &BeaconSettings {
        &self.settings
    }

    pub fn store(&self) -> &BeaconStore {
        &self.store
    }

    fn lock(&self) -> MutexGuard<'_, State<W>> {
        // A panic elsewhere cannot leave the state half-updated in a way that matters: every
        // update is a push or an insert.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The run's beacons, in creation order.
    pub fn records(&self) -> Vec<BeaconRecord> {
        self.lock()
            .beacons
            .iter()
            .map(|b| b.record.clone())
            .collect()
    }

    /// Every score recorded so far.
    pub fn scores(&self) -> Vec<CandidateScore> {
        self.lock().scores.values().cloned().collect()
    }

    /// The recorded score of a candidate the search evaluated.
    pub fn recorded_score(&self, genes: &[f64]) -> Option<CandidateScore> {
        self.lock().scores.get(&genes_key(genes)).cloned()
    }

    /// Retrained weights of beacon `index` (1-based).
    pub fn weights(&self, index: usize) -> Result<Arc<W>, ProblemError> {
        self.lock()
            .beacons
            .get(index.wrapping_sub(1))
            .map(|b| Arc::clone(&b.weights))
            .ok_or_else(|| ProblemError::Setup(format!("no beacon {index} in this run")))
    }

    fn retrained_bits(&self, bits: &LayerBits) -> LayerBits {
        let mut r = *bits;
        if self.settings.retrain_fc_activation_16 {
            let fc = r.fc_layer();
            r.activation[fc] = 16;
        }
        r
    }

    /// Retrains (or loads) the fixed beacons not yet in the run; called once before a
    /// fixed-list search.
    pub fn prepare_fixed(&self, fixed: &[LayerBits]) -> Result<(), BeaconStoreError> {
        let mut state = self.lock();
        let wanted: Vec<LayerBits> = fixed
            .iter()
            .filter(|bits| !state.beacons.iter().any(|b| b.record.bits == **bits))
            .map(|bits| self.retrained_bits(bits))
            .collect();
        // All of them at once: one job per beacon.
        let retrained_now = self.retrain_remotely(&wanted)?;
        for bits in fixed {
            if state.beacons.iter().any(|b| b.record.bits == *bits) {
                continue;
            }
            let active = self.create_after(&state, bits, None, &retrained_now)?;
            state.beacons.push(active);
            self.save_beacons(&state)?;
        }
        Ok(())
    }

    fn create(
        &self,
        state: &State<W>,
        bits: &LayerBits,
        creator: Option<Genes>,
    ) -> Result<Active<W>, BeaconStoreError> {
        let retrained_now = self.retrain_remotely(&[self.retrained_bits(bits)])?;
        self.create_after(state, bits, creator, &retrained_now)
    }

    /// The beacon for `bits`, from the store or retrained here; `retrained_now` are the keys
    /// the executor has just retrained (they count as retrained by this run, not reused).
    fn create_after(
        &self,
        state: &State<W>,
        bits: &LayerBits,
        creator: Option<Genes>,
        retrained_now: &HashSet<String>,
    ) -> Result<Active<W>, BeaconStoreError> {
        let retrained_bits = self.retrained_bits(bits);
        let mut loaded =
            self.store
                .get_or_retrain(&retrained_bits, self.settings.epochs, self.retrainer)?;
        if retrained_now.contains(&loaded.meta.key) {
            loaded.reused = false;
        }
        Ok(Active {
            record: BeaconRecord {
                index: state.beacons.len() + 1,
                key: loaded.meta.key.clone(),
                bits: *bits,
                retrained_bits,
                creator,
                reused_from_store: loaded.reused,
                retrain_seconds: loaded.meta.retrain_seconds,
            },
            weights: Arc::new(loaded.weights),
        })
    }

    fn save_beacons(&self, state: &State<W>) -> Result<(), BeaconStoreError> {
        if let Some(dir) = &self.run_dir {
            let path = dir.join(BEACONS_FILE);
            let records: Vec<&BeaconRecord> = state.beacons.iter().map(|b| &b.record).collect();
            write_json_atomic(&path, &records)
                .map_err(run_io(&path, "writing the run's beacons"))?;
        }
        Ok(())
    }

    fn save_scores(&self, state: &State<W>) -> Result<(), BeaconStoreError> {
        if let Some(dir) = &self.run_dir {
            let path = dir.join(SCORES_FILE);
            write_json_atomic(&path, &state.scores)
                .map_err(run_io(&path, "writing beacon scores"))?;
        }
        Ok(())
    }

    /// Nearest visible beacon (0 = base model) and its distance; ties go to the older beacon.
    fn nearest(state: &State<W>, visible: &[bool], bits: &LayerBits) -> (usize, u32) {
        let mut best = (
            0,
            bits.weight_distance(&LayerBits::uniform_for(bits.len(), 16)),
        );
        for (j, b) in state.beacons.iter().enumerate() {
            if visible[j] {
                let d = bits.weight_distance(&b.record.bits);
                if d < best.1 {
                    best = (j + 1, d);
                }
            }
        }
        best
    }

    /// Applies beacons to the PTQ scores of a batch (see the module docs): `promising` picks
    /// the candidates that get a beacon, `model` scores them on the beacon's weights.
    pub fn rescore<M: ErrorModel<Weights = W>>(
        &self,
        model: &M,
        promising: &(dyn Fn(&CandidateScore) -> bool + Sync),
        batch: &[Genes],
        scores: Vec<Result<CandidateScore, ProblemError>>,
    ) -> Vec<Result<CandidateScore, ProblemError>> {
        let decided = self.decide(promising, batch, scores);
        let finished = score_on_beacons(model, decided);
        self.record_scores(batch, finished)
    }

    /// The sequential part, in candidate order: which beacon scores each promising candidate,
    /// creating (retraining) beacons as the mode allows. A failure ends the batch.
    fn decide(
        &self,
        promising: &(dyn Fn(&CandidateScore) -> bool + Sync),
        batch: &[Genes],
        scores: Vec<Result<CandidateScore, ProblemError>>,
    ) -> Vec<Result<Decision<W>, ProblemError>> {
        let mut state = self.lock();
        let in_batch: HashSet<String> = batch.iter().map(|g| genes_key(g)).collect();
        let mut visible: Vec<bool> = state
            .beacons
            .iter()
            .map(|b| {
                b.record
                    .creator
                    .as_ref()
                    .is_none_or(|c| !in_batch.contains(&genes_key(c)))
            })
            .collect();
        let mut decided: Vec<Result<Decision<W>, ProblemError>> = Vec::with_capacity(scores.len());
        let mut failed = false;
        for (genes, score) in batch.iter().zip(scores) {
            if failed {
                decided.push(Err(ProblemError::Setup(
                    "not evaluated: an earlier candidate of the batch failed".into(),
                )));
                continue;
            }
            let mut score = match score {
                Ok(s) => s,
                Err(e) => {
                    failed = true;
                    decided.push(Err(e));
                    continue;
                }
            };
            if !promising(&score) {
                decided.push(Ok((score, None)));
                continue;
            }
            let key = genes_key(genes);
            let replayed = state.beacons.iter().position(|b| {
                b.record
                    .creator
                    .as_ref()
                    .is_some_and(|c| genes_key(c) == key)
            });
            let (nearest, distance) = Self::nearest(&state, &visible, &score.bits);
            let chosen = if let Some(j) = replayed {
                visible[j] = true;
                j + 1
            } else if self.settings.mode == BeaconMode::Dynamic
                && distance > self.settings.distance_threshold
                && visible.iter().filter(|&&v| v).count() < self.settings.max_beacons
            {
                match self.create(&state, &score.bits, Some(genes.clone())) {
                    Ok(active) => {
                        state.beacons.push(active);
                        visible.push(true);
                        if let Err(e) = self.save_beacons(&state) {
                            failed = true;
                            decided.push(Err(e.into()));
                            continue;
                        }
                        state.beacons.len()
                    }
                    Err(e) => {
                        failed = true;
                        decided.push(Err(e.into()));
                        continue;
                    }
                }
            } else {
                nearest
            };
            score.beacon = Some(chosen);
            let weights = (chosen > 0).then(|| Arc::clone(&state.beacons[chosen - 1].weights));
            decided.push(Ok((score, weights)));
        }
        drop(state);
        decided
    }

    /// Remembers the batch's scores and saves them; a failed save fails the whole batch.
    fn record_scores(
        &self,
        batch: &[Genes],
        finished: Vec<Result<CandidateScore, ProblemError>>,
    ) -> Vec<Result<CandidateScore, ProblemError>> {
        let mut state = self.lock();
        for (genes, score) in batch.iter().zip(&finished) {
            if let Ok(s) = score {
                state.scores.insert(genes_key(genes), s.clone());
            }
        }
        if let Err(e) = self.save_scores(&state) {
            let message = format!("could not save beacon scores: {e}");
            return finished
                .into_iter()
                .map(|r| r.and_then(|_| Err(ProblemError::Setup(message.clone()))))
                .collect();
        }
        finished
    }
}

/// The parallel part: the beacon error of every candidate that was given a beacon, and the
/// reported error min(PTQ, beacon).
fn score_on_beacons<W: Send + Sync, M: ErrorModel<Weights = W>>(
    model: &M,
    decided: Vec<Result<Decision<W>, ProblemError>>,
) -> Vec<Result<CandidateScore, ProblemError>> {
    decided
        .into_par_iter()
        .map(|d| {
            let (mut score, weights) = d?;
            if let Some(w) = weights {
                let e_b = model.error(&score.bits, Some(&w))?;
                score.beacon_error = Some(e_b);
                score.error = score.ptq_error.min(e_b);
            }
            Ok(score)
        })
        .collect()
}

fn read_json_if_present<T: serde::de::DeserializeOwned>(
    path: &Path,
) -> Result<Option<T>, BeaconStoreError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| BeaconStoreError::BadMetadata {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(BeaconStoreError::Io {
            path: path.to_path_buf(),
            action: "reading",
            source,
        }),
    }
}
