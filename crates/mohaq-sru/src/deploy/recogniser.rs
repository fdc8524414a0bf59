//! `mohaq infer`: the phone sequence of one audio file, from an exported model (packed integer
//! weights, frozen activation thresholds) or from a float model bundle quantized on the fly at
//! given widths.
//!
//! A single file has no speaker set to normalise over, so its features are normalised over the
//! recording itself (mean and variance per mel bin) — after a level check, because that
//! normalisation turns silence and faint noise into speech-like input (see
//! [`crate::features::level`]). Audio at other rates or with several channels is converted
//! (resampled, downmixed) and the [`Recognition`] says so. Long recordings run in segments so
//! memory does not grow with their length.

use std::path::Path;
use std::sync::Arc;

use mohaq_quant::{BitWidth, PackedMatrix};

use super::error::DeployError;
use super::format::{companion_path, read_exported, stored_config};
use crate::data::audio::{read_audio_with, AudioPolicy, Conversion};
use crate::data::phones::PHONES39;
use crate::features::cmvn::CmvnStats;
use crate::features::level::{loudest_frame_dbfs, SILENCE_DBFS};
use crate::features::{Fbank, FbankOptions};
use crate::model::{ModelBundle, ModelConfig};
use crate::quantized::{ActivationMode, BitConfig, QuantizedModel};

/// Frames per segment of a long recording (20 s): the bidirectional recurrence needs the whole
/// segment, so this bounds the working memory of inference (≈12 KB per frame).
pub const SEGMENT_FRAMES: usize = 2000;
/// Frames of context on each side of a segment (1 s), run but not decoded, so each decoded frame
/// sees at least a second of audio in both directions.
pub const CONTEXT_FRAMES: usize = 100;

/// A model ready to recognise: weights (packed), widths and activation thresholds.
pub struct Recogniser {
    bundle: ModelBundle,
    engine: QuantizedModel,
    bits: BitConfig,
    weights: Vec<Arc<PackedMatrix>>,
    /// Frozen thresholds (exported model); `None`: calibrated per utterance (segment).
    alphas: Option<Vec<f32>>,
}

/// What [`Recogniser::recognise`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Recognition {
    pub phones: Vec<&'static str>,
    pub frames: usize,
    /// Segments the recording ran in (1 unless it is longer than [`SEGMENT_FRAMES`]).
    pub segments: usize,
    /// What the audio file held and what was done to it (set by [`Recogniser::recognise_file`]).
    pub audio: Option<Conversion>,
    /// Level of the loudest frame when the recording is silent (below [`SILENCE_DBFS`]): it is
    /// then not run through the model and recognised as `sil`.
    pub silent_dbfs: Option<f64>,
}

impl Recogniser {
    /// Opens `model`: an exported quantized model (its companion file next to it), or a float
    /// model bundle. An exported model runs only at its own widths (it carries no float weights
    /// to quantize again), so `bits` must be absent or equal to them; a float bundle runs at
    /// `bits` (a gene list or one width), 16 by default.
    pub fn open(model: &Path, bits: Option<&str>) -> Result<Self, DeployError> {
        if model.is_dir() {
            return Err(DeployError::file(
                model,
                "is a directory; give the model file (e.g. models/sru-default.safetensors or the file `mohaq export --out` wrote)",
            ));
        }
        if !model.is_file() {
            return Err(DeployError::file(model, "model file not found"));
        }
        let parse = |config: &ModelConfig| {
            bits.map(|text| {
                BitConfig::parse(config, text)
                    .map_err(|e| DeployError::Input(format!("--bits {text}: {e}")))
            })
            .transpose()
        };
        if companion_path(model).is_file() {
            Self::open_exported(model, parse)
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
        bits: impl FnOnce(&ModelConfig) -> Result<Option<BitConfig>, DeployError>,
    ) -> Result<Self, DeployError> {
        let exported = read_exported(model)?;
        if let Some(b) = bits(&exported.bundle.params.config)?.filter(|b| *b != exported.bits) {
            return Err(DeployError::file(
                model,
                format!(
                    "exported at widths {}; --bits asks for {}. An export holds only its packed \
                     weights, so it runs at its own widths: leave --bits out, export another \
                     solution, or give --bits with the float model (models/sru-default.safetensors)",
                    exported.bits.display_grouped(),
                    b.display_grouped()
                ),
            ));
        }
        Self::from_bundle(
            exported.bundle,
            exported.bits,
            Some(exported.weights),
            Some(exported.alphas),
        )
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

    /// Recognises one audio file: WAV (8/16/24/32-bit or float), FLAC or SPHERE, any rate and
    /// channel count (converted to 16 kHz mono).
    pub fn recognise_file(&self, audio: &Path) -> Result<Recognition, DeployError> {
        let options = FbankOptions::default();
        let fbank = Fbank::new(&options).map_err(|e| DeployError::file(audio, e))?;
        let (signal, conversion) =
            read_audio_with(audio, AudioPolicy::converting(options.sample_rate))
                .map_err(|e| DeployError::Input(e.to_string()))?;
        let frames = options.geometry().num_frames(signal.samples.len());
        if frames == 0 {
            return Err(DeployError::file(
                audio,
                format!(
                    "{} samples ({:.3} s) is shorter than one {} ms feature frame",
                    signal.samples.len(),
                    signal.seconds(),
                    options.frame_length_ms
                ),
            ));
        }
        let level = loudest_frame_dbfs(&signal.samples, options.geometry());
        if level < SILENCE_DBFS {
            return Ok(Recognition {
                phones: vec![PHONES39[usize::from(crate::data::phones::SIL)]],
                frames,
                segments: 0,
                audio: Some(conversion),
                silent_dbfs: Some(level),
            });
        }
        let mut feats = fbank.compute(&signal.samples, 0);
        drop(signal);
        let dim = fbank.dim();
        let stats = CmvnStats::estimate(dim, [feats.as_slice()]);
        stats.apply(&mut feats);
        let mut result = self.recognise(&feats, dim)?;
        result.audio = Some(conversion);
        Ok(result)
    }

    /// Recognises normalised features (`frames × dim`, row-major); recordings longer than
    /// [`SEGMENT_FRAMES`] run segment by segment with [`CONTEXT_FRAMES`] of context each side.
    pub fn recognise(&self, feats: &[f32], dim: usize) -> Result<Recognition, DeployError> {
        let config = &self.bundle.params.config;
        if dim != config.input_dim {
            return Err(DeployError::Input(format!(
                "features of dimension {dim}; the model expects dimension {}",
                config.input_dim
            )));
        }
        if feats.is_empty() || !feats.len().is_multiple_of(dim) {
            return Err(DeployError::Input(format!(
                "{} feature values is not a whole number of frames of dimension {dim}",
                feats.len()
            )));
        }
        let frames = feats.len() / dim;
        let decoder = self.bundle.decoder();
        let mut phones: Vec<&'static str> = Vec::new();
        let mut segments = 0;
        let mut start = 0;
        while start < frames {
            // A short tail joins the last segment rather than running with little context.
            let end = if frames - start <= SEGMENT_FRAMES + CONTEXT_FRAMES {
                frames
            } else {
                start + SEGMENT_FRAMES
            };
            let lo = start.saturating_sub(CONTEXT_FRAMES);
            let hi = (end + CONTEXT_FRAMES).min(frames);
            let log_posteriors = self.forward(&feats[lo * dim..hi * dim], hi - lo)?;
            let classes = log_posteriors.len() / (hi - lo);
            let kept = &log_posteriors[(start - lo) * classes..(end - lo) * classes];
            for (k, id) in decoder.decode(kept, end - start).into_iter().enumerate() {
                let phone = PHONES39.get(id as usize).copied().unwrap_or("?");
                // A phone cut by a segment boundary is decoded on both sides: merge it.
                if k == 0 && phones.last() == Some(&phone) {
                    continue;
                }
                phones.push(phone);
            }
            segments += 1;
            start = end;
        }
        Ok(Recognition {
            phones,
            frames,
            segments,
            audio: None,
            silent_dbfs: None,
        })
    }

    /// Log posteriors of `frames` frames through the quantized engine.
    fn forward(&self, feats: &[f32], frames: usize) -> Result<Vec<f32>, DeployError> {
        let mode = match &self.alphas {
            Some(a) => ActivationMode::Frozen(a),
            None => ActivationMode::PerUtterance,
        };
        let mut used = vec![0f32; self.bits.layers.len()];
        self.engine
            .forward(feats, frames, &self.bits, &self.weights, mode, &mut used)
            .map_err(DeployError::engine("quantized inference"))
    }
}
