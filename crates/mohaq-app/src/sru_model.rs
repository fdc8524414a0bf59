//! The real SRU model of mohaq-sru behind [`ErrorModel`] and [`Retrainer`].
//!
//! The optimisation subset is (the first N utterances of) the dev split; test errors use
//! activation thresholds frozen as the per-layer median over that subset (METHOD §4.3). Each
//! evaluation goes to mohaq-sru's [`QuantizedEvaluator`], which caches quantized weights, takes
//! `&self`, and sums utterances in a fixed order: calls from rayon workers are safe and give the
//! same result at any thread count. The float error is computed once, at construction.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use mohaq_hw::Workload;
use mohaq_quant::BitWidth;
use mohaq_sru::data::Split;
use mohaq_sru::features::{Dataset, LoadOptions};
use mohaq_sru::model::{ModelBundle, ModelConfig, ModelParams};
use mohaq_sru::quantized::{BitConfig, PrefixCache, QuantizedEvaluator};
use mohaq_sru::train::fisher::{empirical_fisher_means, matrix_weights, quantization_perturbation};
use mohaq_sru::train::pipeline::{evaluate_bundle, load, PipelineOptions};
use mohaq_sru::train::qat::qat_fine_tune;
use sha2::{Digest, Sha256};

use mohaq_beacon::error::{ModelFailure, RunError};
use mohaq_beacon::experiment::Experiment;
use mohaq_beacon::genes::{LayerBits, NUM_LAYERS};
use mohaq_beacon::model::{ErrorModel, Retrainer, ReuseReport, SecondOrderSensitivity};

use crate::retrain_log::RetrainLog;

/// How beacons are retrained (QAT through mohaq-sru's training pipeline).
#[derive(Debug, Clone, Default)]
pub struct RetrainSettings {
    /// Model config TOML with the `[train]` section QAT uses; without it retraining is refused.
    pub config_path: Option<PathBuf>,
    /// Corpus folder the training split is read from.
    pub data_dir: PathBuf,
    /// Overrides the config's `include_kathleen` (`--quick` retrains on the TIMIT sample only).
    pub include_kathleen: Option<bool>,
}

/// A beacon's retrained weights with evaluators on the same subsets as the base model.
pub struct SruWeights {
    pub params: ModelParams,
    dev: QuantizedEvaluator,
    test: QuantizedEvaluator,
}

/// The trained SRU with its optimisation (dev) and test subsets.
pub struct SruModel {
    name: String,
    bundle: ModelBundle,
    dev: QuantizedEvaluator,
    test: QuantizedEvaluator,
    workload: Workload,
    float_error: f64,
    weights_digest: String,
    retrain: RetrainSettings,
    /// Requests served differently than asked (see [`ErrorModel::notes`]).
    notes: Vec<String>,
    /// The optimisation subset, kept for the curvature of the second-order sensitivity.
    dev_data: Dataset,
    /// Empirical-Fisher means per matrix layer, computed on first use.
    curvature: std::sync::OnceLock<Result<Vec<f64>, String>>,
    /// Layer outputs of the base weights on the optimisation subset, shared by the search's
    /// batches (`None`: disabled).
    cache: Option<PrefixCache>,
}

/// Batches larger than this bypass the layer-output cache: they share their prefixes within
/// themselves (an exhaustive chunk), and storing their states would only cost memory.
pub const CACHE_BATCH_MAX: usize = 256;

/// The first `n` utterances (0: all), with a note when `n` is more than the split has.
pub(crate) fn first(mut ds: Dataset, n: usize, key: &str, notes: &mut Vec<String>) -> Dataset {
    if n > ds.utterances.len() {
        notes.push(format!(
            "data.{key} = {n}, but the split has {} utterances; all {} are used",
            ds.utterances.len(),
            ds.utterances.len()
        ));
    }
    if n > 0 {
        ds.utterances.truncate(n);
    }
    ds
}

/// The model's matrix layers (gene order) as a hardware workload, with its real counts.
pub fn workload_of(config: &ModelConfig) -> Result<Workload, ModelFailure> {
    // Shapes too (weights = MACs = in × out), so measured tables can match layers by shape.
    let layers = config.matrix_layers();
    Workload::new(
        config.name.clone(),
        layers
            .iter()
            .map(|l| {
                mohaq_hw::MatrixLayer::fully_connected(&l.name, l.in_dim as u64, l.out_dim as u64)
            })
            .collect(),
    )
    .map(|w| w.with_elementwise_params(config.elementwise_params() as u64))
    .map_err(|e| ModelFailure::new(format!("workload of model `{}`", config.name), e))
}

/// mohaq-beacon's per-layer widths as mohaq-sru's [`BitConfig`] (same layer order).
pub fn bit_config(bits: &LayerBits) -> Result<BitConfig, ModelFailure> {
    let layers = bits
        .widths()
        .map_err(|e| ModelFailure::new(bits.display_genes(), e))?;
    Ok(BitConfig { layers })
}

fn digest_params(params: &ModelParams) -> String {
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

impl SruModel {
    /// From a bundle and already loaded subsets. The model must have 4 SRU layers (8 matrix
    /// layers), the layout of the paper's genes.
    pub fn from_parts(
        bundle: ModelBundle,
        dev: &Dataset,
        test: &Dataset,
        retrain: RetrainSettings,
    ) -> Result<Self, ModelFailure> {
        let config = bundle.params.config.clone();
        if config.matrix_layers().len() != NUM_LAYERS {
            return Err(ModelFailure::new(
                format!("model `{}`", config.name),
                format!(
                    "has {} matrix layers; the search's genes need {NUM_LAYERS} (4 SRU layers)",
                    config.matrix_layers().len()
                ),
            ));
        }
        if dev.utterances.is_empty() || test.utterances.is_empty() {
            return Err(ModelFailure::new(
                "SRU model data",
                "the optimisation (dev) and test subsets must not be empty",
            ));
        }
        let workload = workload_of(&config)?;
        let (_, float_error) = evaluate_bundle(&bundle, dev)
            .map_err(|e| ModelFailure::new("float evaluation on the dev subset", e))?;
        let dev_eval = QuantizedEvaluator::from_bundle(&bundle, dev)
            .map_err(|e| ModelFailure::new("dev evaluator", e))?;
        let test_eval = QuantizedEvaluator::from_bundle(&bundle, test)
            .map_err(|e| ModelFailure::new("test evaluator", e))?;
        Ok(Self {
            name: config.name.clone(),
            weights_digest: digest_params(&bundle.params),
            bundle,
            dev: dev_eval,
            test: test_eval,
            workload,
            float_error,
            retrain,
            notes: Vec::new(),
            dev_data: dev.clone(),
            curvature: std::sync::OnceLock::new(),
            cache: None,
        })
    }

    /// Loads the model file and the subsets of an experiment. Relative paths of the experiment
    /// are taken relative to `base`; `data_override` (e.g. `--data`) beats the experiment's
    /// `data.dir`, which beats `MOHAQ_DATA` and the default.
    pub fn for_experiment(
        experiment: &Experiment,
        base: &Path,
        data_override: Option<&Path>,
    ) -> Result<Self, RunError> {
        let experiment = experiment.clone().resolve(base);
        let config_path = &experiment.model.config;
        let weights_path = &experiment.model.weights;
        let data_dir = match (data_override, &experiment.data.dir) {
            (Some(d), _) => d.to_path_buf(),
            (None, Some(d)) => d.clone(),
            (None, None) => mohaq_sru::data::default_data_dir(),
        };
        Ok(Self::load(
            config_path,
            weights_path,
            &data_dir,
            experiment.data.dev_utterances,
            experiment.data.test_utterances,
        )?
        .with_cache_mb(experiment.search.cache_mb()))
    }

    /// A layer-output cache of `mb` MiB for the search's batches (0: none).
    pub fn with_cache_mb(mut self, mb: u64) -> Self {
        self.cache = (mb > 0).then(|| PrefixCache::with_mb(mb));
        self
    }

    /// Loads a model bundle and the first `dev_utterances` / `test_utterances` (0 = all) of the
    /// dev and test splits of `data_dir`.
    pub fn load(
        config_path: &Path,
        weights_path: &Path,
        data_dir: &Path,
        dev_utterances: usize,
        test_utterances: usize,
    ) -> Result<Self, RunError> {
        for path in [config_path, weights_path] {
            if !path.is_file() {
                return Err(RunError::Invalid(format!(
                    "model file {} does not exist (train one with `mohaq train`, or fix the \
                     experiment's [model] section)",
                    path.display()
                )));
            }
        }
        // ModelError names its file itself.
        let model_err =
            |_: &Path, e: mohaq_sru::model::ModelError| RunError::Invalid(e.to_string());
        let config = ModelConfig::load(config_path).map_err(|e| model_err(config_path, e))?;
        let bundle =
            ModelBundle::load(&config, weights_path).map_err(|e| model_err(weights_path, e))?;
        let opts = LoadOptions::default();
        let data_err = |e: mohaq_sru::train::TrainError| RunError::Invalid(e.to_string());
        let mut notes = Vec::new();
        let dev = first(
            load(data_dir, Split::Dev, &opts).map_err(data_err)?,
            dev_utterances,
            "dev_utterances",
            &mut notes,
        );
        let test = first(
            load(data_dir, Split::Test, &opts).map_err(data_err)?,
            test_utterances,
            "test_utterances",
            &mut notes,
        );
        let retrain = RetrainSettings {
            config_path: Some(config_path.to_path_buf()),
            data_dir: data_dir.to_path_buf(),
            include_kathleen: None,
        };
        let mut model = Self::from_parts(bundle, &dev, &test, retrain)?;
        model.notes = notes;
        Ok(model)
    }

    /// How beacons are retrained.
    pub fn retrain_settings(&self) -> &RetrainSettings {
        &self.retrain
    }

    /// Changes how beacons are retrained.
    pub fn with_retrain_settings(mut self, retrain: RetrainSettings) -> Self {
        self.retrain = retrain;
        self
    }

    pub fn bundle(&self) -> &ModelBundle {
        &self.bundle
    }

    pub fn config(&self) -> &ModelConfig {
        &self.bundle.params.config
    }

    /// Utterances of the optimisation subset and of the test subset.
    pub fn subset_sizes(&self) -> (usize, usize) {
        (self.dev.utterances(), self.test.utterances())
    }

    /// Beacon weights from parameters (evaluators on the same subsets and decoder).
    pub fn weights_from_params(&self, params: ModelParams) -> SruWeights {
        SruWeights {
            dev: self.dev.with_params(params.clone()),
            test: self.test.with_params(params.clone()),
            params,
        }
    }

    /// Frozen activation thresholds for `bits` from the optimisation subset, on the base or a
    /// beacon's weights (what `mohaq export` stores and the test evaluation uses).
    pub fn frozen_activations(
        &self,
        bits: &LayerBits,
        weights: Option<&SruWeights>,
    ) -> Result<mohaq_sru::quantized::FrozenActivations, ModelFailure> {
        let config = bit_config(bits)?;
        let dev = weights.map_or(&self.dev, |w| &w.dev);
        dev.calibrate(&config)
            .map_err(|e| ModelFailure::new(format!("calibrating {}", bits.display_genes()), e))
    }
}

impl ErrorModel for SruModel {
    type Weights = SruWeights;

    fn name(&self) -> String {
        self.name.clone()
    }

    fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }

    fn error_note(&self) -> Option<String> {
        let p = &self.bundle.decoder_params;
        Some(format!(
            "PER of the bundle's phone-loop Viterbi decoder: LM weight {}, insertion penalty {} \
             (negative = bonus), self-loop {}, prior scale {}, at least {} frames per phone",
            p.lm_weight, p.insertion_penalty, p.self_loop_prob, p.prior_scale, p.min_frames
        ))
    }

    fn workload(&self) -> &Workload {
        &self.workload
    }

    fn float_error(&self) -> Result<f64, ModelFailure> {
        Ok(self.float_error)
    }

    fn error(&self, bits: &LayerBits, weights: Option<&SruWeights>) -> Result<f64, ModelFailure> {
        let config = bit_config(bits)?;
        let dev = weights.map_or(&self.dev, |w| &w.dev);
        dev.evaluate(&config)
            .map(|r| r.per)
            .map_err(|e| ModelFailure::new(format!("evaluating {}", bits.display_genes()), e))
    }

    /// The whole batch through [`QuantizedEvaluator::evaluate_many`], which runs candidates in
    /// computation order and recomputes only the layers after each shared width prefix (exact:
    /// the same bits as [`ErrorModel::error`] per candidate). If the batch fails, each candidate
    /// is evaluated on its own so that the error names the one that failed.
    fn errors(&self, bits: &[LayerBits]) -> Vec<Result<f64, ModelFailure>> {
        let configs: Vec<Result<BitConfig, ModelFailure>> = bits.iter().map(bit_config).collect();
        let valid: Vec<BitConfig> = configs
            .iter()
            .filter_map(|c| c.as_ref().ok().cloned())
            .collect();
        let batch = match &self.cache {
            Some(cache) if valid.len() <= CACHE_BATCH_MAX => self
                .dev
                .evaluate_many_cached(&valid, cache)
                .map(|(results, _)| results),
            _ => self.dev.evaluate_many(&valid),
        };
        match batch {
            Ok(results) => {
                let mut results = results.into_iter();
                configs
                    .into_iter()
                    .map(|c| {
                        c.and_then(|c| {
                            results.next().map(|r| r.per).ok_or_else(|| {
                                ModelFailure::new(
                                    format!("evaluating {c}"),
                                    "the batch returned fewer results than candidates",
                                )
                            })
                        })
                    })
                    .collect()
            }
            Err(_) => bits.iter().map(|b| self.error(b, None)).collect(),
        }
    }

    fn reuse_report(&self) -> Option<ReuseReport> {
        self.cache.as_ref().map(|c| {
            let s = c.stats();
            ReuseReport {
                steps_needed: s.steps_needed,
                steps_reused_in_batch: s.steps_reused_in_batch,
                steps_reused_from_cache: s.steps_reused_from_cache,
                cache_bytes_held: s.bytes_held,
                cache_peak_bytes: s.peak_bytes,
                cache_cap_bytes: s.cap_bytes,
                cache_entries: s.entries,
                cache_evictions: s.evictions,
            }
        })
    }

    /// Empirical Fisher (candle gives no Hessian-vector products, so no Hutchinson trace) on the
    /// optimisation subset, times ‖Q(W) − W‖² at each width; weights only (activations zero).
    fn second_order_sensitivity(
        &self,
        widths: &[u32],
    ) -> Result<Option<SecondOrderSensitivity>, ModelFailure> {
        let curvature = self
            .curvature
            .get_or_init(|| {
                let seqs = mohaq_sru::train::pipeline::sequences(&self.dev_data);
                empirical_fisher_means(&self.bundle.params, &seqs).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| ModelFailure::new("empirical Fisher on the dev subset", e.clone()))?;
        let weights = matrix_weights(&self.bundle.params);
        let mut weight = Vec::with_capacity(weights.len());
        for (w, c) in weights.iter().zip(curvature) {
            let mut row = Vec::with_capacity(widths.len());
            for &b in widths {
                let bits = BitWidth::new(b)
                    .map_err(|e| ModelFailure::new("second-order sensitivity", e))?;
                let d = quantization_perturbation(w, bits)
                    .map_err(|e| ModelFailure::new("quantization perturbation", e))?;
                row.push(c * d);
            }
            weight.push(row);
        }
        let activation = vec![vec![0.0; widths.len()]; weight.len()];
        Ok(Some(SecondOrderSensitivity {
            method: "empirical Fisher × ‖Q(W) − W‖² (weights only)".into(),
            weight,
            activation,
        }))
    }

    fn test_error(
        &self,
        bits: &LayerBits,
        weights: Option<&SruWeights>,
    ) -> Result<f64, ModelFailure> {
        let config = bit_config(bits)?;
        let dev = weights.map_or(&self.dev, |w| &w.dev);
        let test = weights.map_or(&self.test, |w| &w.test);
        test.evaluate_calibrated_on(dev, &config)
            .map(|r| r.per)
            .map_err(|e| {
                ModelFailure::new(format!("test evaluation of {}", bits.display_genes()), e)
            })
    }
}

impl Retrainer<SruWeights> for SruModel {
    fn identity(&self) -> String {
        format!(
            "sru:{}:{}:qat-kathleen-{}",
            self.name,
            self.weights_digest,
            self.retrain
                .include_kathleen
                .map_or("config".to_string(), |k| k.to_string())
        )
    }

    fn retrain(
        &self,
        bits: &LayerBits,
        epochs: usize,
        work_dir: &Path,
    ) -> Result<SruWeights, ModelFailure> {
        let config_path = self.retrain.config_path.clone().ok_or_else(|| {
            ModelFailure::new(
                "retraining a beacon",
                "no model config (with a [train] section) was given",
            )
        })?;
        let opts = PipelineOptions {
            config: config_path,
            data_dir: self.retrain.data_dir.clone(),
            out_dir: work_dir.to_path_buf(),
            include_kathleen: self.retrain.include_kathleen,
            epochs: Some(epochs),
            cache_dir: None,
            dump_dir: None,
            tune_decoder: false,
        };
        let report = qat_fine_tune(
            &opts,
            self.bundle.params.clone(),
            bit_config(bits)?,
            &mut RetrainLog::new(bits.display_genes()),
        )
        .map_err(|e| ModelFailure::new(format!("QAT of {}", bits.display_genes()), e))?;
        self.load(&report.model_path)
    }

    fn save(&self, weights: &SruWeights, path: &Path) -> Result<(), ModelFailure> {
        weights
            .params
            .save(path, HashMap::new())
            .map_err(|e| ModelFailure::new(format!("writing {}", path.display()), e))
    }

    fn load(&self, path: &Path) -> Result<SruWeights, ModelFailure> {
        let (params, _) = ModelParams::load(self.config(), path)
            .map_err(|e| ModelFailure::new(format!("reading {}", path.display()), e))?;
        Ok(self.weights_from_params(params))
    }
}
