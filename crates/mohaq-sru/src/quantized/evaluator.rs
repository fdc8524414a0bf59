//! Scores candidates (per-layer bit widths) on a fixed set of utterances: the function the
//! genetic search calls hundreds of times. Construction copies the data and builds the decoder
//! once; each call reuses the cached quantized weights, runs utterances in parallel and sums the
//! results in a fixed order, so a call is cheap, thread-safe (`&self`) and deterministic.

use std::sync::Arc;
use std::time::Instant;

use mohaq_quant::BitWidth;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::bits::BitConfig;
use super::engine::{ActivationMode, QuantizedModel, StepState};
use super::error::QuantizedError;
use super::prefix_cache::{PrefixCache, PrefixKey, ReuseStats};
use crate::decode::{align, greedy::argmax, Decoder, ErrorCounts};
use crate::features::Dataset;
use crate::model::{ModelBundle, ModelParams};

/// One utterance as the evaluator needs it.
#[derive(Clone, Debug)]
pub struct EvalUtterance {
    pub feats: Vec<f32>,
    pub frames: usize,
    pub targets: Vec<u32>,
    pub phones: Vec<u8>,
}

/// Scores of one candidate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalResult {
    /// Phone error rate, percent.
    pub per: f64,
    /// Frame (state) accuracy, 0..1.
    pub frame_acc: f64,
    pub substitutions: usize,
    pub deletions: usize,
    pub insertions: usize,
    pub reference_len: usize,
    pub frames: usize,
    pub utterances: usize,
    pub seconds: f64,
}

/// Activation thresholds frozen from a calibration set: the median per layer of the
/// per-utterance thresholds (METHOD §4.3), valid for the bit widths they were computed with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrozenActivations {
    pub bits: BitConfig,
    pub alphas: Vec<f32>,
}

/// Candidate evaluator over one dataset.
pub struct QuantizedEvaluator {
    model: Arc<QuantizedModel>,
    data: Arc<Vec<EvalUtterance>>,
    decoder: Arc<Decoder>,
}

impl QuantizedEvaluator {
    /// Builds an evaluator for `params` on `dataset`, decoding with `decoder`.
    pub fn new(
        params: ModelParams,
        dataset: &Dataset,
        decoder: Decoder,
    ) -> Result<Self, QuantizedError> {
        let data =
            eval_utterances(dataset, params.config.input_dim).map_err(QuantizedError::Input)?;
        Ok(Self {
            model: Arc::new(QuantizedModel::new(params)),
            data: Arc::new(data),
            decoder: Arc::new(decoder),
        })
    }

    /// Builds an evaluator from a shipped bundle (weights + decoder statistics).
    pub fn from_bundle(bundle: &ModelBundle, dataset: &Dataset) -> Result<Self, QuantizedError> {
        Self::new(bundle.params.clone(), dataset, bundle.decoder())
    }

    /// Same data and decoder, other weights (e.g. a beacon's retrained weights).
    pub fn with_params(&self, params: ModelParams) -> Self {
        Self {
            model: Arc::new(QuantizedModel::new(params)),
            data: self.data.clone(),
            decoder: self.decoder.clone(),
        }
    }

    pub fn model(&self) -> &QuantizedModel {
        &self.model
    }

    pub fn utterances(&self) -> usize {
        self.data.len()
    }

    /// Scores `bits` with per-utterance activation calibration (the search's mode).
    pub fn evaluate(&self, bits: &BitConfig) -> Result<EvalResult, QuantizedError> {
        Ok(self.run(bits, ActivationMode::PerUtterance)?.0)
    }

    /// Scores `bits` with frozen activation thresholds (the final test evaluation).
    pub fn evaluate_frozen(
        &self,
        bits: &BitConfig,
        frozen: &FrozenActivations,
    ) -> Result<EvalResult, QuantizedError> {
        if frozen.bits != *bits {
            return Err(QuantizedError::FrozenMismatch {
                calibrated: frozen.bits.to_string(),
                requested: bits.to_string(),
            });
        }
        Ok(self.run(bits, ActivationMode::Frozen(&frozen.alphas))?.0)
    }

    /// Per-utterance calibration over this dataset, frozen as the median per layer.
    /// This subset's error with activation thresholds frozen on `calibration` (the median over
    /// the dev or optimisation subset, METHOD §4.3): how test errors are measured.
    pub fn evaluate_calibrated_on(
        &self,
        calibration: &QuantizedEvaluator,
        bits: &BitConfig,
    ) -> Result<EvalResult, QuantizedError> {
        let frozen = calibration.calibrate(bits)?;
        self.evaluate_frozen(bits, &frozen)
    }

    pub fn calibrate(&self, bits: &BitConfig) -> Result<FrozenActivations, QuantizedError> {
        let (_, per_utt) = self.run(bits, ActivationMode::PerUtterance)?;
        let n = bits.layers.len();
        let alphas = (0..n)
            .map(|pos| {
                let mut v: Vec<f32> = per_utt.iter().map(|a| a[pos]).collect();
                v.sort_by(f32::total_cmp);
                median(&v)
            })
            .collect();
        Ok(FrozenActivations {
            bits: bits.clone(),
            alphas,
        })
    }

    fn run(
        &self,
        bits: &BitConfig,
        mode: ActivationMode<'_>,
    ) -> Result<(EvalResult, Vec<Vec<f32>>), QuantizedError> {
        let start = Instant::now();
        let weights = self.model.weights(bits)?;
        let n = bits.layers.len();
        let per_utt: Vec<(UtteranceScore, Vec<f32>)> = self
            .data
            .par_iter()
            .map(|u| {
                let mut alphas = vec![0f32; n];
                let lp =
                    self.model
                        .forward(&u.feats, u.frames, bits, &weights, mode, &mut alphas)?;
                Ok((
                    score_utterance(&self.decoder, self.model.params().config.classes, u, &lp),
                    alphas,
                ))
            })
            .collect::<Result<Vec<_>, QuantizedError>>()?;
        let (scores, alphas): (Vec<_>, Vec<_>) = per_utt.into_iter().unzip();
        Ok((
            sum_scores(&self.data, &scores, start.elapsed().as_secs_f64()),
            alphas,
        ))
    }

    /// Scores many candidates with per-utterance calibration; the same results, bit for bit, as
    /// [`Self::evaluate`] on each, in the order given.
    ///
    /// Candidates are run sorted by their widths in [`QuantizedModel::computation_order`], and
    /// each utterance keeps the state after every step of the last candidate, so a candidate
    /// recomputes only the steps after its longest common prefix with the one before. Over a
    /// whole product space (the exhaustive SiLago front) most steps are shared. Utterances run
    /// in parallel, each walking all candidates, and scores are summed in utterance order as in
    /// [`Self::evaluate`]. `seconds` of each result is the batch time divided evenly.
    pub fn evaluate_many(&self, configs: &[BitConfig]) -> Result<Vec<EvalResult>, QuantizedError> {
        Ok(self.evaluate_many_with(configs, None)?.0)
    }

    /// [`Self::evaluate_many`] that also starts candidates from `cache`'s deepest stored prefix
    /// and stores the new prefixes it computes (within the cache's cap), for later batches of
    /// the same search. The cache must only ever be used with this evaluator (same weights and
    /// data). Results are the same bits with or without it. Also returns this batch's counts.
    pub fn evaluate_many_cached(
        &self,
        configs: &[BitConfig],
        cache: &PrefixCache,
    ) -> Result<(Vec<EvalResult>, ReuseStats), QuantizedError> {
        self.evaluate_many_with(configs, Some(cache))
    }

    fn evaluate_many_with(
        &self,
        configs: &[BitConfig],
        cache: Option<&PrefixCache>,
    ) -> Result<(Vec<EvalResult>, ReuseStats), QuantizedError> {
        let start = Instant::now();
        if configs.is_empty() {
            return Ok((Vec::new(), ReuseStats::default()));
        }
        // Also refuses a candidate with the wrong number of layers.
        let weights = configs
            .iter()
            .map(|b| self.model.weights(b))
            .collect::<Result<Vec<_>, _>>()?;
        let order = self.model.computation_order();
        let keys: Vec<PrefixKey> = configs
            .iter()
            .map(|b| {
                order
                    .iter()
                    .map(|&p| (b.layers[p].weight, b.layers[p].activation))
                    .collect()
            })
            .collect();
        let plan = self.plan(&keys, cache);
        let steps = order.len();
        // Per utterance: its score for every candidate, and the states to store, in plan order.
        let per_utterance: Vec<(Vec<UtteranceScore>, Vec<StepState>)> = self
            .data
            .par_iter()
            .enumerate()
            .map(|(k, u)| self.walk(k, u, &plan, configs, &weights, steps))
            .collect::<Result<_, QuantizedError>>()?;
        if let Some(cache) = cache {
            plan.store(cache, &keys, &per_utterance);
        }
        let seconds = start.elapsed().as_secs_f64() / configs.len() as f64;
        let results = (0..configs.len())
            .map(|i| {
                let per_candidate: Vec<UtteranceScore> =
                    per_utterance.iter().map(|(s, _)| s[i]).collect();
                sum_scores(&self.data, &per_candidate, seconds)
            })
            .collect();
        Ok((results, plan.counts))
    }

    /// Decides, in sequential code, where each candidate starts and which new prefixes are
    /// stored, so the cache and its counts are the same at any thread count.
    fn plan(&self, keys: &[PrefixKey], cache: Option<&PrefixCache>) -> BatchPlan {
        let steps = keys[0].len();
        let mut sorted: Vec<usize> = (0..keys.len()).collect();
        sorted.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
        let frames: u64 = self.data.iter().map(|u| u.frames as u64).sum();
        let entry_bytes =
            |depth: usize| 4 * frames * self.model.state_floats_per_frame(depth) as u64;
        let mut budget = cache.map_or(0, |c| c.cap_bytes());
        let mut planned = std::collections::HashSet::new();
        // valid[d]: each utterance's chain holds the state after d steps of the last candidate.
        let mut valid = vec![false; steps + 1];
        valid[0] = true;
        let mut counts = ReuseStats {
            steps_needed: (keys.len() * steps) as u64,
            ..ReuseStats::default()
        };
        let mut items = Vec::with_capacity(keys.len());
        let mut previous: Option<usize> = None;
        for &i in &sorted {
            let key = &keys[i];
            let shared = previous.map_or(0, |p| common_prefix(&keys[p], key));
            if let (Some(p), true) = (previous, shared == steps) {
                counts.steps_reused_in_batch += steps as u64;
                items.push(PlanItem {
                    candidate: i,
                    start: Start::Copy(p),
                    stores: Vec::new(),
                });
                continue;
            }
            let chain = (0..=shared).rev().find(|&d| valid[d]).unwrap_or(0);
            let cached = cache.and_then(|c| c.deepest(key, chain, steps));
            let first = cached.as_ref().map_or(chain, |(d, _)| *d);
            counts.steps_reused_in_batch += chain as u64;
            counts.steps_reused_from_cache += (first - chain) as u64;
            for (d, v) in valid.iter_mut().enumerate().skip(chain + 1) {
                *v = d >= first;
            }
            let mut stores = Vec::new();
            if let Some(c) = cache {
                for d in first + 1..steps {
                    let bytes = entry_bytes(d);
                    if bytes <= budget
                        && !c.contains(&key[..d])
                        && planned.insert(key[..d].to_vec())
                    {
                        budget -= bytes;
                        stores.push(d);
                    }
                }
            }
            let start = match cached {
                Some((depth, states)) => Start::Cache {
                    chain,
                    depth,
                    states,
                },
                None => Start::Chain(chain),
            };
            items.push(PlanItem {
                candidate: i,
                start,
                stores,
            });
            previous = Some(i);
        }
        if let Some(c) = cache {
            c.count(
                counts.steps_needed,
                counts.steps_reused_in_batch,
                counts.steps_reused_from_cache,
            );
            c.reserve(cache_reservation(&items, entry_bytes));
        }
        BatchPlan { items, counts }
    }

    /// One utterance through every candidate of the plan.
    fn walk(
        &self,
        u_index: usize,
        u: &EvalUtterance,
        plan: &BatchPlan,
        configs: &[BitConfig],
        weights: &[Vec<Arc<mohaq_quant::PackedMatrix>>],
        steps: usize,
    ) -> Result<(Vec<UtteranceScore>, Vec<StepState>), QuantizedError> {
        let mut chain: Vec<Option<StepState>> = Vec::with_capacity(steps + 1);
        chain.push(Some(self.model.input_state(&u.feats, u.frames)?));
        let mut alphas = vec![0f32; steps];
        let mut out = vec![UtteranceScore::default(); configs.len()];
        let mut stored = Vec::new();
        for item in &plan.items {
            let i = item.candidate;
            let first = match &item.start {
                Start::Copy(p) => {
                    out[i] = out[*p];
                    continue;
                }
                Start::Chain(chain_depth) => {
                    chain.truncate(chain_depth + 1);
                    *chain_depth
                }
                Start::Cache {
                    chain: chain_depth,
                    depth,
                    states,
                } => {
                    chain.truncate(chain_depth + 1);
                    chain.resize(*depth, None);
                    chain.push(Some(states[u_index].clone()));
                    *depth
                }
            };
            let mut stores = item.stores.iter().peekable();
            for step in first..steps {
                let state = chain[step].as_ref().ok_or_else(|| {
                    QuantizedError::Input(format!("no state before step {step} (a plan error)"))
                })?;
                let next = self.model.step(
                    step,
                    state,
                    &configs[i],
                    &weights[i],
                    ActivationMode::PerUtterance,
                    &mut alphas,
                )?;
                if stores.next_if(|&&d| d == step + 1).is_some() {
                    stored.push(next.clone());
                }
                chain.push(Some(next));
            }
            let last = chain[steps].as_ref().ok_or_else(|| {
                QuantizedError::Input("no final state (a plan error)".to_string())
            })?;
            out[i] = score_utterance(
                &self.decoder,
                self.model.params().config.classes,
                u,
                last.values(),
            );
        }
        Ok((out, stored))
    }
}

/// Bytes the plan's new entries will take.
fn cache_reservation(items: &[PlanItem], entry_bytes: impl Fn(usize) -> u64) -> u64 {
    items
        .iter()
        .flat_map(|item| item.stores.iter().map(|&d| entry_bytes(d)))
        .sum()
}

/// Where one candidate of a batch starts.
enum Start {
    /// The same widths as candidate `.0`, evaluated just before: its score.
    Copy(usize),
    /// From the utterance's own chain of states after this many steps.
    Chain(usize),
    /// From a cached prefix of `depth` steps (the chain is kept up to `chain` steps).
    Cache {
        chain: usize,
        depth: usize,
        states: Arc<Vec<StepState>>,
    },
}

struct PlanItem {
    candidate: usize,
    start: Start,
    /// Depths (ascending) whose states this candidate computes and the cache stores.
    stores: Vec<usize>,
}

/// A batch's candidates in computation order, with what each reuses and stores.
struct BatchPlan {
    items: Vec<PlanItem>,
    counts: ReuseStats,
}

impl BatchPlan {
    /// Stores the planned prefixes, in plan order, from every utterance's recorded states.
    fn store(
        &self,
        cache: &PrefixCache,
        keys: &[PrefixKey],
        per_utterance: &[(Vec<UtteranceScore>, Vec<StepState>)],
    ) {
        let mut k = 0;
        for item in &self.items {
            for &d in &item.stores {
                let states = per_utterance.iter().map(|(_, s)| s[k].clone()).collect();
                cache.insert(keys[item.candidate][..d].to_vec(), states);
                k += 1;
            }
        }
    }
}

/// One utterance's part of a candidate's score.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct UtteranceScore {
    errors: ErrorCounts,
    correct: usize,
}

/// Number of leading steps two candidates share.
fn common_prefix(a: &[(BitWidth, BitWidth)], b: &[(BitWidth, BitWidth)]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Median of sorted per-utterance thresholds (1 for an empty set): the frozen threshold.
pub(crate) fn median(sorted: &[f32]) -> f32 {
    match sorted.len() {
        0 => 1.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]),
    }
}

/// The evaluator's copy of `dataset`, checked against the model's input dimension `dim`.
pub(crate) fn eval_utterances(dataset: &Dataset, dim: usize) -> Result<Vec<EvalUtterance>, String> {
    dataset
        .utterances
        .iter()
        .map(|u| {
            if u.dim != dim {
                return Err(format!(
                    "utterance {} has feature dimension {}, the model expects {dim}",
                    u.id, u.dim
                ));
            }
            Ok(EvalUtterance {
                feats: u.feats.clone(),
                frames: u.num_frames(),
                targets: u.targets.clone(),
                phones: u.phones.clone(),
            })
        })
        .collect()
}

/// Edit counts and correct frames of one utterance's log posteriors (`classes` per frame).
pub(crate) fn score_utterance(
    decoder: &Decoder,
    classes: usize,
    u: &EvalUtterance,
    lp: &[f32],
) -> UtteranceScore {
    let correct = lp
        .chunks(classes)
        .zip(&u.targets)
        .filter(|(row, &t)| argmax(row) == t as usize)
        .count();
    let hyp = decoder.decode(lp, u.frames);
    UtteranceScore {
        errors: align(&u.phones, &hyp),
        correct,
    }
}

/// Sums utterance scores (in utterance order) into a candidate's result over `data`.
pub(crate) fn sum_scores(
    data: &[EvalUtterance],
    scores: &[UtteranceScore],
    seconds: f64,
) -> EvalResult {
    let mut total = ErrorCounts::default();
    let mut correct = 0;
    for s in scores {
        total.add(&s.errors);
        correct += s.correct;
    }
    let frames: usize = data.iter().map(|u| u.frames).sum();
    EvalResult {
        per: total.per(),
        frame_acc: correct as f64 / frames.max(1) as f64,
        substitutions: total.substitutions,
        deletions: total.deletions,
        insertions: total.insertions,
        reference_len: total.reference_len,
        frames,
        utterances: data.len(),
        seconds,
    }
}
