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
use super::engine::{ActivationMode, QuantizedModel};
use super::error::QuantizedError;
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
        let start = Instant::now();
        if configs.is_empty() {
            return Ok(Vec::new());
        }
        let order = self.model.computation_order();
        // Also refuses a candidate with the wrong number of layers.
        let weights = configs
            .iter()
            .map(|b| self.model.weights(b))
            .collect::<Result<Vec<_>, _>>()?;
        let keys: Vec<Vec<(BitWidth, BitWidth)>> = configs
            .iter()
            .map(|b| {
                order
                    .iter()
                    .map(|&p| (b.layers[p].weight, b.layers[p].activation))
                    .collect()
            })
            .collect();
        let mut sorted: Vec<usize> = (0..configs.len()).collect();
        sorted.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
        let steps = order.len();
        // scores[utterance][candidate]
        let scores: Vec<Vec<UtteranceScore>> = self
            .data
            .par_iter()
            .map(|u| {
                let mut states = Vec::with_capacity(steps + 1);
                states.push(self.model.input_state(&u.feats, u.frames)?);
                let mut alphas = vec![0f32; steps];
                let mut out = vec![UtteranceScore::default(); configs.len()];
                let mut previous: Option<usize> = None;
                for &i in &sorted {
                    let shared = previous.map_or(0, |p| common_prefix(&keys[p], &keys[i]));
                    if let (Some(p), true) = (previous, shared == steps) {
                        out[i] = out[p];
                        continue;
                    }
                    states.truncate(shared + 1);
                    for step in shared..steps {
                        let next = self.model.step(
                            step,
                            &states[step],
                            &configs[i],
                            &weights[i],
                            ActivationMode::PerUtterance,
                            &mut alphas,
                        )?;
                        states.push(next);
                    }
                    out[i] = score_utterance(
                        &self.decoder,
                        self.model.params().config.classes,
                        u,
                        states[steps].values(),
                    );
                    previous = Some(i);
                }
                Ok(out)
            })
            .collect::<Result<_, QuantizedError>>()?;
        let seconds = start.elapsed().as_secs_f64() / configs.len() as f64;
        Ok((0..configs.len())
            .map(|i| {
                let per_candidate: Vec<UtteranceScore> = scores.iter().map(|s| s[i]).collect();
                sum_scores(&self.data, &per_candidate, seconds)
            })
            .collect())
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
