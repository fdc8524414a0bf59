//! `mohaq infer`: the phone sequence of one audio file, from an exported model (packed integer
//! weights, frozen activation thresholds) or from a float model bundle quantized on the fly at
//! given widths.
//!
//! A single file has no speaker set to normalise over, so its features are normalised over the
//! utterance itself (mean and variance per mel bin).

use std::path::Path;
use std::sync::Arc;

use mohaq_quant::{BitWidth, PackedMatrix};

use super::error::DeployError;
use super::format::{companion_path, read_companion, read_packed, stored_config};
use crate::data::phones::PHONES39;
use crate::features::cmvn::CmvnStats;
use crate::features::dataset::signal_features;
use crate::features::{Fbank, FbankOptions};
use crate::model::{ModelBundle, ModelConfig};
use crate::quantized::{ActivationMode, BitConfig, QuantizedModel};

/// A model ready to recognise: weights (packed), widths and activation thresholds.
pub struct Recogniser {
    bundle: ModelBundle,
    engine: QuantizedModel,
    bits: BitConfig,
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

impl Recogniser {
    /// Opens `model`: an exported quantized model (its companion file next to it), or a float
    /// model bundle. `bits` overrides the exported widths (the exported model's dequantized
    /// weights are then quantized again) and is how a float bundle is quantized; with neither,
    /// a float bundle runs at 16 bits.
    pub fn open(model: &Path, bits: Option<&str>) -> Result<Self, DeployError> {
        if !model.is_file() {
            return Err(DeployError::file(model, "model file does not exist"));
        }
        let companion = companion_path(model);
        let parse = |config: &ModelConfig| {
            bits.map(|text| {
                BitConfig::parse(config, text)
                    .map_err(|e| DeployError::Input(format!("bit widths `{text}`: {e}")))
            })
            .transpose()
        };
        if companion.is_file() {
            Self::open_exported(model, &companion, parse)
        } else {
            let config = stored_config(model)?;
            let bits = parse(&config)?;
            let bundle =
                ModelBundle::load(&config, model).map_err(|e| DeployError::file(model, e))?;
            let bits = bits.unwrap_or_else(|| BitConfig::uniform(&config, BitWidth::B16));
            Self::from_bundle(bundle, bits, None, None)
        }
    }

    fn open_exported(
        model: &Path,
        companion: &Path,
        bits: impl FnOnce(&ModelConfig) -> Result<Option<BitConfig>, DeployError>,
    ) -> Result<Self, DeployError> {
        let (bundle, exported, alphas) = read_companion(companion)?;
        if let Some(b) = bits(&bundle.params.config)?.filter(|b| *b != exported) {
            // Other widths: requantize the dequantized weights, calibrate per utterance.
            return Self::from_bundle(bundle, b, None, None);
        }
        let weights = read_packed(model, &bundle.params.config, &exported)?;
        Self::from_bundle(bundle, exported, Some(weights), Some(alphas))
    }

    /// From a bundle at `bits`; `weights` (packed, in layer order) default to the bundle's
    /// quantized at `bits`, `alphas` to per-utterance calibration.
    pub fn from_bundle(
        bundle: ModelBundle,
        bits: BitConfig,
        weights: Option<Vec<Arc<PackedMatrix>>>,
        alphas: Option<Vec<f32>>,
    ) -> Result<Self, DeployError> {
        let engine = QuantizedModel::new(bundle.params.clone());
        let weights = match weights {
            Some(w) => w,
            None => engine
                .weights(&bits)
                .map_err(DeployError::engine("quantizing the weights"))?,
        };
        Ok(Self {
            bundle,
            engine,
            bits,
            weights,
            alphas,
        })
    }

    /// The widths in the paper's grouping.
    pub fn genes(&self) -> String {
        self.bits.display_grouped()
    }

    /// Whether activation thresholds are frozen (an exported model at its own widths).
    pub fn frozen(&self) -> bool {
        self.alphas.is_some()
    }

    /// Recognises one audio file (WAV, FLAC or SPHERE at the model's 16 kHz).
    pub fn recognise_file(&self, audio: &Path) -> Result<Recognition, DeployError> {
        let fbank =
            Fbank::new(&FbankOptions::default()).map_err(|e| DeployError::file(audio, e))?;
        let features =
            signal_features(audio, &fbank, None).map_err(|e| DeployError::file(audio, e))?;
        let mut feats = features.feats;
        let dim = features.dim;
        let stats = CmvnStats::estimate(dim, [feats.as_slice()]);
        stats.apply(&mut feats);
        self.recognise(&feats, dim)
    }

    /// Recognises normalised features (`frames × dim`, row-major).
    pub fn recognise(&self, feats: &[f32], dim: usize) -> Result<Recognition, DeployError> {
        let config = &self.bundle.params.config;
        if dim != config.input_dim || feats.is_empty() || !feats.len().is_multiple_of(dim) {
            return Err(DeployError::Input(format!(
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
            .map_err(DeployError::engine("quantized inference"))?;
        let ids = self.bundle.decoder().decode(&log_posteriors, frames);
        let phones = ids
            .iter()
            .map(|&p| PHONES39.get(p as usize).copied().unwrap_or("?"))
            .collect();
        Ok(Recognition { phones, frames })
    }
}
