//! The PER of an LSTM/GRU candidate on a fixed set of utterances: what the search calls per
//! candidate. Utterances run in parallel and are summed in utterance order, so a result does
//! not depend on the thread count.

use std::sync::Arc;
use std::time::Instant;

use mohaq_precision::{GeneCodec, GeneError, LayerWidths};
use rayon::prelude::*;

use super::bundle::RnnBundle;
use super::config::RnnConfig;
use super::error::RnnError;
use super::float;
use super::params::RnnParams;
use super::quantized::RnnQuantized;
use crate::decode::Decoder;
use crate::features::Dataset;
use crate::quantized::evaluator::{
    eval_utterances, median, score_utterance, sum_scores, UtteranceScore,
};
use crate::quantized::{ActivationMode, EvalResult, EvalUtterance};

impl RnnConfig {
    /// Widths from text: one value for all layers, one per matrix layer (shared), or two per
    /// layer in the codec's independent order (weights of L.., R.., P.., then activations, FC).
    pub fn parse_bits(&self, text: &str) -> Result<Vec<LayerWidths>, GeneError> {
        let mut genes = mohaq_precision::codec::parse_numbers(text)?;
        let n = self.matrix_layers().len();
        if genes.len() == 1 {
            genes = vec![genes[0]; n];
        }
        GeneCodec::for_count(self.layer_table(), genes.len()).decode(&genes)
    }
}

/// Candidate evaluator over one dataset.
pub struct RnnEvaluator {
    model: Arc<RnnQuantized>,
    data: Arc<Vec<EvalUtterance>>,
    decoder: Arc<Decoder>,
}

impl RnnEvaluator {
    pub fn new(params: RnnParams, dataset: &Dataset, decoder: Decoder) -> Result<Self, RnnError> {
        let data = eval_utterances(dataset, params.config.input_dim).map_err(RnnError::Input)?;
        Ok(Self {
            model: Arc::new(RnnQuantized::new(params)),
            data: Arc::new(data),
            decoder: Arc::new(decoder),
        })
    }

    pub fn from_bundle(bundle: &RnnBundle, dataset: &Dataset) -> Result<Self, RnnError> {
        Self::new(bundle.params.clone(), dataset, bundle.decoder())
    }

    /// Same data and decoder, other weights.
    pub fn with_params(&self, params: RnnParams) -> Self {
        Self {
            model: Arc::new(RnnQuantized::new(params)),
            data: self.data.clone(),
            decoder: self.decoder.clone(),
        }
    }

    pub fn model(&self) -> &RnnQuantized {
        &self.model
    }

    pub fn utterances(&self) -> usize {
        self.data.len()
    }

    /// The float model's score.
    pub fn evaluate_float(&self) -> Result<EvalResult, RnnError> {
        let start = Instant::now();
        let scores = self
            .data
            .par_iter()
            .map(|u| Ok(self.score(u, &float::forward(self.model.params(), &u.feats, u.frames)?)))
            .collect::<Result<Vec<_>, RnnError>>()?;
        Ok(sum_scores(
            &self.data,
            &scores,
            start.elapsed().as_secs_f64(),
        ))
    }

    /// The score of given log-probabilities of this set's frames (utterances concatenated in
    /// order, `classes` per frame), decoded with this evaluator's decoder: how posteriors made
    /// elsewhere (PyTorch) are scored exactly as mohaq scores its own.
    pub fn score_log_probs(&self, log_probs: &[f32]) -> Result<EvalResult, RnnError> {
        let start = Instant::now();
        let classes = self.model.params().config.classes;
        let frames: usize = self.data.iter().map(|u| u.frames).sum();
        if log_probs.len() != frames * classes {
            return Err(RnnError::Input(format!(
                "{} log-probabilities for {frames} frames × {classes} classes",
                log_probs.len()
            )));
        }
        let mut offset = 0;
        let scores: Vec<UtteranceScore> = self
            .data
            .iter()
            .map(|u| {
                let lp = &log_probs[offset..offset + u.frames * classes];
                offset += u.frames * classes;
                self.score(u, lp)
            })
            .collect();
        Ok(sum_scores(
            &self.data,
            &scores,
            start.elapsed().as_secs_f64(),
        ))
    }

    /// Scores `widths` with per-utterance activation calibration (the search's mode).
    pub fn evaluate(&self, widths: &[LayerWidths]) -> Result<EvalResult, RnnError> {
        Ok(self.run(widths, ActivationMode::PerUtterance)?.0)
    }

    /// The per-layer thresholds of per-utterance calibration, frozen as their median.
    pub fn calibrate(&self, widths: &[LayerWidths]) -> Result<Vec<f32>, RnnError> {
        let (_, per_utt) = self.run(widths, ActivationMode::PerUtterance)?;
        Ok((0..widths.len())
            .map(|pos| {
                let mut v: Vec<f32> = per_utt.iter().map(|a| a[pos]).collect();
                v.sort_by(f32::total_cmp);
                median(&v)
            })
            .collect())
    }

    /// This set's score with thresholds frozen on `calibration` (how test errors are measured).
    pub fn evaluate_calibrated_on(
        &self,
        calibration: &RnnEvaluator,
        widths: &[LayerWidths],
    ) -> Result<EvalResult, RnnError> {
        let alphas = calibration.calibrate(widths)?;
        Ok(self.run(widths, ActivationMode::Frozen(&alphas))?.0)
    }

    fn run(
        &self,
        widths: &[LayerWidths],
        mode: ActivationMode<'_>,
    ) -> Result<(EvalResult, Vec<Vec<f32>>), RnnError> {
        let start = Instant::now();
        self.model.check_widths(widths)?;
        let per_utt = self
            .data
            .par_iter()
            .map(|u| {
                let mut alphas = vec![0f32; widths.len()];
                let lp = self
                    .model
                    .forward(&u.feats, u.frames, widths, mode, &mut alphas)?;
                Ok((self.score(u, &lp), alphas))
            })
            .collect::<Result<Vec<_>, RnnError>>()?;
        let (scores, alphas): (Vec<_>, Vec<_>) = per_utt.into_iter().unzip();
        Ok((
            sum_scores(&self.data, &scores, start.elapsed().as_secs_f64()),
            alphas,
        ))
    }

    fn score(&self, u: &EvalUtterance, lp: &[f32]) -> UtteranceScore {
        score_utterance(&self.decoder, self.model.params().config.classes, u, lp)
    }
}
