//! `mohaq infer`: the phone sequence of one audio file, from a model exported by
//! [`crate::export`] (packed integer weights, frozen activation thresholds) or from a float model
//! bundle quantized on the fly at given widths.
//!
//! A single file has no speaker set to normalise over, so its features are normalised over the
//! utterance itself (mean and variance per mel bin).

use std::path::Path;
use std::sync::Arc;

use mohaq_quant::{load_packed, PackedMatrix};
use mohaq_sru::data::phones::PHONES39;
use mohaq_sru::features::cmvn::CmvnStats;
use mohaq_sru::features::dataset::signal_features;
use mohaq_sru::features::{Fbank, FbankOptions};
use mohaq_sru::model::params::read_tensors;
use mohaq_sru::model::{ModelBundle, ModelConfig};
use mohaq_sru::quantized::{ActivationMode, BitConfig, QuantizedModel};

use crate::error::{ModelFailure, RunError};
use crate::export::{companion_path, ALPHAS_KEY, BITS_KEY};
use crate::genes::LayerBits;
use crate::sru_model::bit_config;

/// A model ready to recognise: weights (packed), widths and activation thresholds.
pub struct Recogniser {
    bundle: ModelBundle,
    engine: QuantizedModel,
    bits: BitConfig,
    genes: String,
    weights: Vec<Arc<PackedMatrix>>,
    /// Frozen thresholds (exported model); `None`: calibrated per utterance.
    alphas: Option<Vec<f32>>,
}

/// What [`Recogniser::recognise`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Recognition {
    pub phones: Vec<&'static str>,
    pub frames: usize,
}

fn invalid(path: &Path, message: impl std::fmt::Display) -> RunError {
    RunError::Invalid(format!("{}: {message}", path.display()))
}

impl Recogniser {
    /// Opens `model`: an exported quantized model (its companion file next to it), or a float
    /// model bundle. `bits` overrides the exported widths (the exported model's dequantized
    /// weights are then quantized again) and is how a float bundle is quantized; with neither,
    /// a float bundle runs at 16 bits.
    pub fn open(model: &Path, bits: Option<&LayerBits>) -> Result<Self, RunError> {
        if !model.is_file() {
            return Err(invalid(model, "model file does not exist"));
        }
        let companion = companion_path(model);
        if companion.is_file() {
            Self::open_exported(model, &companion, bits)
        } else {
            let config = stored_config(model)?;
            let bundle = ModelBundle::load(&config, model).map_err(|e| invalid(model, e))?;
            Self::from_bundle(
                bundle,
                bits.copied().unwrap_or(LayerBits::uniform(16)),
                None,
                None,
            )
        }
    }

    fn open_exported(
        model: &Path,
        companion: &Path,
        bits: Option<&LayerBits>,
    ) -> Result<Self, RunError> {
        let config = stored_config(companion)?;
        let bundle = ModelBundle::load(&config, companion).map_err(|e| invalid(companion, e))?;
        let (_, meta) = read_tensors(companion).map_err(|e| invalid(companion, e))?;
        let exported = meta
            .get(BITS_KEY)
            .ok_or_else(|| invalid(companion, format!("metadata `{BITS_KEY}` is missing")))
            .and_then(|g| LayerBits::parse(g).map_err(|e| invalid(companion, e)))?;
        let alphas: Vec<f32> = meta
            .get(ALPHAS_KEY)
            .ok_or_else(|| invalid(companion, format!("metadata `{ALPHAS_KEY}` is missing")))
            .and_then(|a| serde_json::from_str(a).map_err(|e| invalid(companion, e)))?;
        if let Some(b) = bits.filter(|b| **b != exported) {
            // Other widths: requantize the dequantized weights, calibrate per utterance.
            return Self::from_bundle(bundle, *b, None, None);
        }
        let packed = load_packed(model).map_err(|e| invalid(model, e))?;
        let layers = config.matrix_layers();
        let weights = layers
            .iter()
            .zip(&exported.weight)
            .map(|(l, &w)| {
                let m = packed
                    .get(&l.name)
                    .ok_or_else(|| invalid(model, format!("matrix `{}` is missing", l.name)))?;
                if m.bits().bits() != w || m.rows() != l.out_dim || m.cols() != l.in_dim {
                    return Err(invalid(
                        model,
                        format!(
                            "matrix `{}` is {}x{} at {} bits, the companion says {}x{} at {w}",
                            l.name,
                            m.rows(),
                            m.cols(),
                            m.bits().bits(),
                            l.out_dim,
                            l.in_dim
                        ),
                    ));
                }
                Ok(Arc::new(m.clone()))
            })
            .collect::<Result<Vec<_>, RunError>>()?;
        if alphas.len() != layers.len() {
            return Err(invalid(
                companion,
                format!(
                    "{} activation thresholds for {} layers",
                    alphas.len(),
                    layers.len()
                ),
            ));
        }
        Self::from_bundle(bundle, exported, Some(weights), Some(alphas))
    }

    /// From a bundle at `bits`; `weights` (packed, in layer order) default to the bundle's
    /// quantized at `bits`, `alphas` to per-utterance calibration.
    pub fn from_bundle(
        bundle: ModelBundle,
        bits: LayerBits,
        weights: Option<Vec<Arc<PackedMatrix>>>,
        alphas: Option<Vec<f32>>,
    ) -> Result<Self, RunError> {
        let config = bit_config(&bits)?;
        let engine = QuantizedModel::new(bundle.params.clone());
        let weights = match weights {
            Some(w) => w,
            None => engine
                .weights(&config)
                .map_err(|e| ModelFailure::new("quantizing the weights", e))?,
        };
        Ok(Self {
            bundle,
            engine,
            bits: config,
            genes: bits.display_genes(),
            weights,
            alphas,
        })
    }

    /// The widths in the paper's grouping.
    pub fn genes(&self) -> &str {
        &self.genes
    }

    /// Whether activation thresholds are frozen (an exported model at its own widths).
    pub fn frozen(&self) -> bool {
        self.alphas.is_some()
    }

    /// Recognises one audio file (WAV, FLAC or SPHERE at the model's 16 kHz).
    pub fn recognise_file(&self, audio: &Path) -> Result<Recognition, RunError> {
        let fbank = Fbank::new(&FbankOptions::default()).map_err(|e| invalid(audio, e))?;
        let features = signal_features(audio, &fbank, None).map_err(|e| invalid(audio, e))?;
        let mut feats = features.feats;
        let dim = features.dim;
        let stats = CmvnStats::estimate(dim, [feats.as_slice()]);
        stats.apply(&mut feats);
        self.recognise(&feats, dim)
    }

    /// Recognises normalised features (`frames × dim`, row-major).
    pub fn recognise(&self, feats: &[f32], dim: usize) -> Result<Recognition, RunError> {
        let config = &self.bundle.params.config;
        if dim != config.input_dim || feats.is_empty() || !feats.len().is_multiple_of(dim) {
            return Err(RunError::Invalid(format!(
                "{} feature values of dimension {dim}; the model expects dimension {}",
                feats.len(),
                config.input_dim
            )));
        }
        let frames = feats.len() / dim;
        let mode = match &self.alphas {
            Some(a) => ActivationMode::Frozen(a),
            None => ActivationMode::PerUtterance,
        };
        let mut used = vec![0f32; self.bits.layers.len()];
        let log_posteriors = self
            .engine
            .forward(feats, frames, &self.bits, &self.weights, mode, &mut used)
            .map_err(|e| ModelFailure::new("quantized inference", e))?;
        let ids = self.bundle.decoder().decode(&log_posteriors, frames);
        let phones = ids
            .iter()
            .map(|&p| PHONES39.get(p as usize).copied().unwrap_or("?"))
            .collect();
        Ok(Recognition { phones, frames })
    }
}

fn stored_config(path: &Path) -> Result<ModelConfig, RunError> {
    ModelBundle::stored_config(path)
        .map_err(|e| invalid(path, e))?
        .ok_or_else(|| invalid(path, "stores no model config (not a model bundle?)"))
}
