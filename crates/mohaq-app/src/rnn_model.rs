//! An imported (or trained) LSTM/GRU bundle behind mohaq-beacon's [`ErrorModel`], so the same
//! search runs on it as on the SRU.
//!
//! The genes follow the model's own layer table (L0.., R0.., P1.., FC: mohaq-sru's
//! [`RnnConfig::layer_table`] through mohaq-precision's codec), and the workload counts every
//! matrix product per frame, the recurrent `W_hh·h_{t−1}` included. Errors come from mohaq-sru's
//! [`RnnEvaluator`] with the scoring the SRU uses: PTQ error with per-utterance calibration on
//! the optimisation (dev) subset, test error with thresholds frozen as the per-layer median over
//! that subset (METHOD §4.3). Evaluations take `&self` and sum utterances in a fixed order, so
//! results do not depend on the thread count.
//!
//! Beacons retrain quantization-aware through mohaq-sru's training pipeline, as the SRU's do
//! (`qat_fine_tune_rnn`: fake-quantized weights and inputs at the candidate's widths, the
//! recurrent input `h_{t−1}` at its fixed threshold, straight-through gradients), with the
//! `[train]` table of the experiment's `model.config` and the training split of its corpus.
//! A model built without retraining settings ([`RnnModel::from_parts`]) refuses by name.

use std::path::Path;

use mohaq_hw::Workload;
use mohaq_precision::LayerTable;
use mohaq_sru::data::Split;
use mohaq_sru::features::{Dataset, LoadOptions};
use mohaq_sru::rnn::{Architecture, RnnBundle, RnnConfig, RnnEvaluator, RnnParams};
use mohaq_sru::train::pipeline::{load, PipelineOptions};
use mohaq_sru::train::qat::qat_fine_tune_rnn;
use sha2::{Digest, Sha256};

use mohaq_beacon::error::{ModelFailure, RunError};
use mohaq_beacon::experiment::Experiment;
use mohaq_beacon::genes::LayerBits;
use mohaq_beacon::model::{ErrorModel, Retrainer};

use crate::retrain_log::RetrainLog;
use crate::sru_model::{first, RetrainSettings};

/// What a retraining request answers when the model has no retraining settings.
pub const BEACONS_UNSUPPORTED: &str =
    "beacons (QAT retraining) need a model config with a [train] table (the experiment's \
     model.config) and a corpus; this LSTM/GRU model was built without them: use an experiment \
     without a [beacons] section (inference-only PTQ search), or load it with \
     RnnModel::for_experiment";

/// Retrained (QAT) weights of an LSTM/GRU beacon, with evaluators on the model's subsets.
pub struct RnnWeights {
    pub params: RnnParams,
    dev: RnnEvaluator,
    test: RnnEvaluator,
}

/// An LSTM/GRU bundle with its optimisation (dev) and test subsets.
pub struct RnnModel {
    name: String,
    bundle: RnnBundle,
    dev: RnnEvaluator,
    test: RnnEvaluator,
    workload: Workload,
    table: LayerTable,
    float_error: f64,
    weights_digest: String,
    /// How beacons are retrained; `None` refuses ([`BEACONS_UNSUPPORTED`]).
    retrain: Option<RetrainSettings>,
    notes: Vec<String>,
}

/// A short digest of the weights, so a beacon store never serves another model's beacons.
fn digest_params(params: &RnnParams) -> String {
    let mut hasher = Sha256::new();
    for (name, values) in params.named() {
        hasher.update(name.as_bytes());
        for v in values {
            hasher.update(v.to_le_bytes());
        }
    }
    let bytes = hasher.finalize();
    bytes[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The model's matrix layers (layer order, recurrent products included) as a hardware workload.
pub fn rnn_workload(config: &RnnConfig) -> Result<Workload, ModelFailure> {
    Workload::from_counts(
        config.name.clone(),
        config
            .matrix_layers()
            .into_iter()
            .map(|l| (l.name, l.weights as u64, l.macs_per_frame as u64)),
    )
    .map(|w| w.with_elementwise_params(config.elementwise_params() as u64))
    .map_err(|e| ModelFailure::new(format!("workload of model `{}`", config.name), e))
}

/// The LSTM/GRU bundle at `path`, or `None` when the file holds another kind of model (the SRU).
pub fn load_rnn_bundle(path: &Path) -> Result<Option<RnnBundle>, RunError> {
    let invalid = |e: mohaq_sru::rnn::RnnError| RunError::Invalid(e.to_string());
    match Architecture::stored(path).map_err(invalid)? {
        Some(Architecture::Rnn(config)) => {
            RnnBundle::load(&config, path).map(Some).map_err(invalid)
        }
        _ => Ok(None),
    }
}

impl RnnModel {
    /// From a bundle and already loaded subsets (neither may be empty).
    pub fn from_parts(
        bundle: RnnBundle,
        dev: &Dataset,
        test: &Dataset,
    ) -> Result<Self, ModelFailure> {
        let config = bundle.params.config.clone();
        if dev.utterances.is_empty() || test.utterances.is_empty() {
            return Err(ModelFailure::new(
                format!("{} model `{}` data", config.kind.name(), config.name),
                "the optimisation (dev) and test subsets must not be empty",
            ));
        }
        let workload = rnn_workload(&config)?;
        let dev_eval = RnnEvaluator::from_bundle(&bundle, dev)
            .map_err(|e| ModelFailure::new("dev evaluator", e))?;
        let test_eval = RnnEvaluator::from_bundle(&bundle, test)
            .map_err(|e| ModelFailure::new("test evaluator", e))?;
        let float_error = dev_eval
            .evaluate_float()
            .map_err(|e| ModelFailure::new("float evaluation on the dev subset", e))?
            .per;
        let weights_digest = digest_params(&bundle.params);
        Ok(Self {
            name: config.name.clone(),
            table: config.layer_table(),
            bundle,
            dev: dev_eval,
            test: test_eval,
            workload,
            float_error,
            weights_digest,
            retrain: None,
            notes: Vec::new(),
        })
    }

    /// Retrains beacons with these settings (QAT on the training split of `data_dir`, the
    /// `[train]` table of `config_path`).
    pub fn with_retrain_settings(mut self, retrain: RetrainSettings) -> Self {
        self.retrain = Some(retrain);
        self
    }

    /// Loads the LSTM/GRU bundle an experiment's `model.weights` names (its architecture is
    /// stored in it) and the experiment's subsets. Relative paths are taken relative to `base`;
    /// `data_override` (`--data`) beats `data.dir`, which beats `MOHAQ_DATA` and the default.
    pub fn for_experiment(
        experiment: &Experiment,
        base: &Path,
        data_override: Option<&Path>,
    ) -> Result<Self, RunError> {
        let experiment = experiment.clone().resolve(base);
        let path = &experiment.model.weights;
        if !path.is_file() {
            return Err(RunError::Invalid(format!(
                "model file {} does not exist (import one with `mohaq import`, or fix the \
                 experiment's [model] section)",
                path.display()
            )));
        }
        let bundle = load_rnn_bundle(path)?.ok_or_else(|| {
            RunError::Invalid(format!("{}: not an LSTM/GRU bundle", path.display()))
        })?;
        let data_dir = match (data_override, &experiment.data.dir) {
            (Some(d), _) => d.to_path_buf(),
            (None, Some(d)) => d.clone(),
            (None, None) => mohaq_sru::data::default_data_dir(),
        };
        let opts = LoadOptions::default();
        let data_err = |e: mohaq_sru::train::TrainError| RunError::Invalid(e.to_string());
        let mut notes = Vec::new();
        let dev = first(
            load(&data_dir, Split::Dev, &opts).map_err(data_err)?,
            experiment.data.dev_utterances,
            "dev_utterances",
            &mut notes,
        );
        let test = first(
            load(&data_dir, Split::Test, &opts).map_err(data_err)?,
            experiment.data.test_utterances,
            "test_utterances",
            &mut notes,
        );
        let mut model = Self::from_parts(bundle, &dev, &test)?;
        model.notes = notes;
        if experiment.uses_beacons() && !experiment.model.config.is_file() {
            return Err(RunError::Invalid(format!(
                "experiment `{}`: beacons retrain with the [train] table of model.config, and \
                 {} does not exist",
                experiment.name,
                experiment.model.config.display()
            )));
        }
        Ok(model.with_retrain_settings(RetrainSettings {
            config_path: Some(experiment.model.config.clone()),
            data_dir,
            include_kathleen: None,
        }))
    }

    pub fn bundle(&self) -> &RnnBundle {
        &self.bundle
    }

    pub fn config(&self) -> &RnnConfig {
        &self.bundle.params.config
    }

    /// Utterances of the optimisation subset and of the test subset.
    pub fn subset_sizes(&self) -> (usize, usize) {
        (self.dev.utterances(), self.test.utterances())
    }

    /// The activation thresholds of `widths` frozen on the optimisation subset (the per-layer
    /// median of per-utterance calibration), on the base or a beacon's weights: what the test
    /// error and an export use.
    pub fn frozen_activations(
        &self,
        widths: &[mohaq_precision::LayerWidths],
        weights: Option<&RnnWeights>,
    ) -> Result<Vec<f32>, ModelFailure> {
        let dev = weights.map_or(&self.dev, |w| &w.dev);
        dev.calibrate(widths)
            .map_err(|e| ModelFailure::new("calibrating the activation thresholds", e))
    }

    /// The quantized engine the evaluations run on (base or beacon weights), so an export
    /// packs exactly the matrices they multiply with.
    pub fn engine<'a>(
        &'a self,
        weights: Option<&'a RnnWeights>,
    ) -> &'a mohaq_sru::rnn::RnnQuantized {
        weights.map_or(&self.dev, |w| &w.dev).model()
    }

    fn failure(&self, what: &str, bits: &LayerBits, e: impl std::fmt::Display) -> ModelFailure {
        ModelFailure::new(
            format!("{what} {} of `{}`", bits.display_genes(), self.name),
            e.to_string(),
        )
    }
}

impl ErrorModel for RnnModel {
    type Weights = RnnWeights;

    fn name(&self) -> String {
        self.name.clone()
    }

    fn layer_table(&self) -> LayerTable {
        self.table.clone()
    }

    fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }

    fn error_note(&self) -> Option<String> {
        let p = &self.bundle.decoder_params;
        Some(format!(
            "PER of the {} bundle's phone-loop Viterbi decoder: LM weight {}, insertion penalty {} \
             (negative = bonus), self-loop {}, prior scale {}, at least {} frames per phone",
            self.config().kind.name(),
            p.lm_weight,
            p.insertion_penalty,
            p.self_loop_prob,
            p.prior_scale,
            p.min_frames
        ))
    }

    fn workload(&self) -> &Workload {
        &self.workload
    }

    fn float_error(&self) -> Result<f64, ModelFailure> {
        Ok(self.float_error)
    }

    fn error(&self, bits: &LayerBits, weights: Option<&RnnWeights>) -> Result<f64, ModelFailure> {
        let widths = bits.widths().map_err(|e| self.failure("widths", bits, e))?;
        let dev = weights.map_or(&self.dev, |w| &w.dev);
        dev.evaluate(&widths)
            .map(|r| r.per)
            .map_err(|e| self.failure("evaluating", bits, e))
    }

    fn test_error(
        &self,
        bits: &LayerBits,
        weights: Option<&RnnWeights>,
    ) -> Result<f64, ModelFailure> {
        let widths = bits.widths().map_err(|e| self.failure("widths", bits, e))?;
        let dev = weights.map_or(&self.dev, |w| &w.dev);
        let test = weights.map_or(&self.test, |w| &w.test);
        test.evaluate_calibrated_on(dev, &widths)
            .map(|r| r.per)
            .map_err(|e| self.failure("test evaluation of", bits, e))
    }
}

impl Retrainer<RnnWeights> for RnnModel {
    fn identity(&self) -> String {
        format!(
            "{}:{}:{}:qat-kathleen-{}",
            self.config().kind.name(),
            self.name,
            self.weights_digest,
            self.retrain
                .as_ref()
                .and_then(|r| r.include_kathleen)
                .map_or("config".to_string(), |k| k.to_string())
        )
    }

    fn retrain(
        &self,
        bits: &LayerBits,
        epochs: usize,
        work_dir: &Path,
    ) -> Result<RnnWeights, ModelFailure> {
        let Some(RetrainSettings {
            config_path: Some(config_path),
            data_dir,
            include_kathleen,
        }) = &self.retrain
        else {
            return Err(self.failure("retraining a beacon at", bits, BEACONS_UNSUPPORTED));
        };
        let widths = bits.widths().map_err(|e| self.failure("widths", bits, e))?;
        let opts = PipelineOptions {
            config: config_path.clone(),
            data_dir: data_dir.clone(),
            out_dir: work_dir.to_path_buf(),
            include_kathleen: *include_kathleen,
            epochs: Some(epochs),
            cache_dir: None,
            dump_dir: None,
            tune_decoder: false,
        };
        let report = qat_fine_tune_rnn(
            &opts,
            self.bundle.params.clone(),
            widths,
            &mut RetrainLog::new(bits.display_genes()),
        )
        .map_err(|e| self.failure("QAT of", bits, e))?;
        self.load(&report.model_path)
    }

    /// Beacon weights as a bundle with the base model's decoder statistics.
    fn save(&self, weights: &RnnWeights, path: &Path) -> Result<(), ModelFailure> {
        RnnBundle {
            params: weights.params.clone(),
            ..self.bundle.clone()
        }
        .save(path)
        .map_err(|e| ModelFailure::new(format!("writing {}", path.display()), e))
    }

    fn load(&self, path: &Path) -> Result<RnnWeights, ModelFailure> {
        let bundle = RnnBundle::load(self.config(), path)
            .map_err(|e| ModelFailure::new(format!("reading {}", path.display()), e))?;
        Ok(RnnWeights::new(self, bundle.params))
    }
}

impl RnnWeights {
    /// Beacon weights with evaluators on the model's subsets and decoder.
    pub fn new(model: &RnnModel, params: RnnParams) -> Self {
        Self {
            dev: model.dev.with_params(params.clone()),
            test: model.test.with_params(params.clone()),
            params,
        }
    }
}
