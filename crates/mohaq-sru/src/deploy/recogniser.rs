//! `mohaq infer`: the phone sequence of one audio file, from an exported model (packed integer
//! weights, frozen activation thresholds) or from a float model bundle quantized on the fly at
//! given widths; an SRU or an LSTM/GRU (as the file's stored config says), each through its
//! own quantized engine (`QuantizedModel`, `RnnQuantized`), the one the search evaluates.
//!
//! A single file has no speaker set to normalise over, so its features are normalised over the
//! recording itself (mean and variance per mel bin) — after a level check, because that
//! normalisation turns silence and faint noise into speech-like input (see
//! [`crate::features::level`]). Audio at other rates or with several channels is converted
//! (resampled, downmixed) and the [`Recognition`] says so. Long recordings run in segments, and
//! WAV, SPHERE and FLAC files are streamed from disk, converted as they are read (two passes: level
//! and normalisation statistics, then features per segment), so memory does not grow with their
//! length.

use std::path::Path;
use std::sync::Arc;

use mohaq_precision::LayerWidths;
use mohaq_quant::{BitWidth, PackedMatrix};

use super::error::DeployError;
use super::format::{companion_path, read_exported, stored_config};
use super::rnn_format::{genes_text, read_exported_rnn};
use crate::data::audio::{read_audio_with, AudioPolicy, Conversion};
use crate::data::phones::PHONES39;
use crate::data::stream::AudioStream;
use crate::decode::Decoder;
use crate::features::cmvn::{CmvnStats, CmvnSums};
use crate::features::level::{loudest_frame_dbfs, SILENCE_DBFS};
use crate::features::{Fbank, FbankOptions};
use crate::model::{ModelBundle, ModelConfig};
use crate::quantized::{ActivationMode, BitConfig, QuantizedModel};
use crate::rnn::{Architecture, RnnBundle, RnnQuantized};

/// Frames per segment of a long recording (20 s): the bidirectional recurrence needs the whole
/// segment, so this bounds the working memory of inference (≈12 KB per frame).
pub const SEGMENT_FRAMES: usize = 2000;
/// Frames of context on each side of a segment (1 s), run but not decoded, so each decoded frame
/// sees at least a second of audio in both directions.
pub const CONTEXT_FRAMES: usize = 100;

/// A model ready to recognise: weights (packed), widths and activation thresholds.
pub struct Recogniser {
    decoder: Decoder,
    input_dim: usize,
    engine: Engine,
    /// Frozen thresholds (exported model); `None`: calibrated per utterance (segment).
    alphas: Option<Vec<f32>>,
}

/// The quantized engine of the model's kind, at its widths.
enum Engine {
    Sru {
        model: QuantizedModel,
        bits: BitConfig,
        weights: Vec<Arc<PackedMatrix>>,
    },
    /// The packed weights live in the engine's cache (preloaded from an export, or quantized
    /// from the float bundle on first use).
    Rnn {
        model: RnnQuantized,
        widths: Vec<LayerWidths>,
    },
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
        let companion = companion_path(model);
        let stored =
            |path: &Path| Architecture::stored(path).map_err(|e| DeployError::file(path, e));
        if companion.is_file() {
            if let Some(Architecture::Rnn(_)) = stored(&companion)? {
                return Self::open_exported_rnn(model, bits);
            }
            Self::open_exported(model, parse)
        } else if let Some(Architecture::Rnn(config)) = stored(model)? {
            let bundle =
                RnnBundle::load(&config, model).map_err(|e| DeployError::file(model, e))?;
            let widths = match bits {
                Some(text) => config
                    .parse_bits(text)
                    .map_err(|e| DeployError::Input(format!("--bits {text}: {e}")))?,
                None => config
                    .parse_bits("16")
                    .map_err(|e| DeployError::file(model, e))?,
            };
            Self::from_rnn(
                &bundle,
                RnnQuantized::new(bundle.params.clone()),
                widths,
                None,
            )
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

    /// An exported LSTM/GRU model at its own widths (a different `bits` is refused).
    fn open_exported_rnn(model: &Path, bits: Option<&str>) -> Result<Self, DeployError> {
        let exported = read_exported_rnn(model)?;
        let config = &exported.bundle.params.config;
        if let Some(text) = bits {
            let asked = config
                .parse_bits(text)
                .map_err(|e| DeployError::Input(format!("--bits {text}: {e}")))?;
            if asked != exported.widths {
                return Err(DeployError::file(
                    model,
                    format!(
                        "exported at widths {}; --bits asks for {}. An export holds only its \
                         packed weights, so it runs at its own widths: leave --bits out, export \
                         another solution, or give --bits with the float {} bundle",
                        genes_text(config, &exported.widths),
                        genes_text(config, &asked),
                        config.kind.name()
                    ),
                ));
            }
        }
        Self::from_rnn(
            &exported.bundle,
            exported.engine,
            exported.widths,
            Some(exported.alphas),
        )
    }

    /// An LSTM/GRU `engine` at `widths` with `bundle`'s decoder; `alphas` frozen thresholds
    /// (else calibrated per utterance).
    pub fn from_rnn(
        bundle: &RnnBundle,
        engine: RnnQuantized,
        widths: Vec<LayerWidths>,
        alphas: Option<Vec<f32>>,
    ) -> Result<Self, DeployError> {
        engine
            .check_widths(&widths)
            .map_err(|e| DeployError::Input(e.to_string()))?;
        Ok(Self {
            decoder: bundle.decoder(),
            input_dim: engine.params().config.input_dim,
            engine: Engine::Rnn {
                model: engine,
                widths,
            },
            alphas,
        })
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
            decoder: bundle.decoder(),
            input_dim: bundle.params.config.input_dim,
            engine: Engine::Sru {
                model: engine,
                bits,
                weights,
            },
            alphas,
        })
    }

    /// The widths in the paper's grouping (an LSTM/GRU: its codec's groups).
    pub fn genes(&self) -> String {
        match &self.engine {
            Engine::Sru { bits, .. } => bits.display_grouped(),
            Engine::Rnn { model, widths } => {
                let c = &model.params().config;
                mohaq_precision::GeneCodec::new(
                    c.layer_table(),
                    mohaq_precision::GeneLayout::Independent,
                )
                .display(widths)
            }
        }
    }

    /// Whether activation thresholds are frozen (an exported model at its own widths).
    pub fn frozen(&self) -> bool {
        self.alphas.is_some()
    }

    /// Recognises one audio file: WAV (8/16/24/32-bit or float), FLAC or SPHERE, any rate and
    /// channel count (converted to 16 kHz mono). WAV, SPHERE and FLAC files are streamed
    /// ([`Self::recognise_stream`]), resampled and downmixed as they are read, in memory that
    /// does not grow with their length; irregular files are read whole. Both give the same
    /// phones.
    pub fn recognise_file(&self, audio: &Path) -> Result<Recognition, DeployError> {
        let options = FbankOptions::default();
        let policy = AudioPolicy::converting(options.sample_rate);
        let input = |e: crate::data::DataError| DeployError::Input(e.to_string());
        match AudioStream::open(audio, policy).map_err(input)? {
            Some(_) if options.dither == 0.0 => self.recognise_stream(audio, &options),
            _ => self.recognise_whole_file(audio),
        }
    }

    /// [`Self::recognise_file`] with the whole recording in memory: decoded, converted,
    /// featurised and normalised at once.
    pub fn recognise_whole_file(&self, audio: &Path) -> Result<Recognition, DeployError> {
        let options = FbankOptions::default();
        let fbank = Fbank::new(&options).map_err(|e| DeployError::file(audio, e))?;
        let (signal, conversion) =
            read_audio_with(audio, AudioPolicy::converting(options.sample_rate))
                .map_err(|e| DeployError::Input(e.to_string()))?;
        let frames = options.geometry().num_frames(signal.samples.len());
        if frames == 0 {
            return Err(too_short(audio, signal.samples.len(), &options));
        }
        let level = loudest_frame_dbfs(&signal.samples, options.geometry());
        if level < SILENCE_DBFS {
            return Ok(Recognition::silent(frames, conversion, level));
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

    /// A recording read twice from disk, a block at a time: first for its level and the
    /// normalisation statistics, then for the normalised features, each segment run as soon as
    /// its frames (with context) are in. Memory holds one block of samples and one segment of
    /// features whatever the length; the features, statistics and segments are those of
    /// [`Self::recognise_whole_file`], so the phones are too.
    fn recognise_stream(
        &self,
        audio: &Path,
        options: &FbankOptions,
    ) -> Result<Recognition, DeployError> {
        let fbank = Fbank::new(options).map_err(|e| DeployError::file(audio, e))?;
        let policy = AudioPolicy::converting(options.sample_rate);
        let open = || -> Result<AudioStream, DeployError> {
            AudioStream::open(audio, policy)
                .map_err(|e| DeployError::Input(e.to_string()))?
                .ok_or_else(|| DeployError::file(audio, "changed while it was being read"))
        };
        let stream = open()?;
        let conversion = stream.conversion();
        let samples = stream.len() as usize;
        let frames = options.geometry().num_frames(samples);
        if frames == 0 {
            return Err(too_short(audio, samples, options));
        }
        let dim = fbank.dim();
        let mut level = f64::NEG_INFINITY;
        let mut sums = CmvnSums::new(dim);
        feature_blocks(stream, &fbank, |_, block, feats| {
            level = level.max(loudest_frame_dbfs(block, fbank.geometry()));
            sums.add(feats);
            Ok(())
        })?;
        if level < SILENCE_DBFS {
            return Ok(Recognition::silent(frames, conversion, level));
        }
        let stats = sums.stats();
        let decoder = &self.decoder;
        let plan = segments(frames);
        let mut phones = Vec::new();
        let (mut window, mut window_start, mut next) = (Vec::<f32>::new(), 0usize, 0usize);
        feature_blocks(open()?, &fbank, |first, _, feats| {
            let at = window.len();
            window.extend_from_slice(feats);
            stats.apply(&mut window[at..]);
            let available = first + feats.len() / dim;
            while let Some(s) = plan.get(next).filter(|s| s.hi <= available) {
                let span = &window[(s.lo - window_start) * dim..(s.hi - window_start) * dim];
                self.run_segment(decoder, span, s, &mut phones)?;
                next += 1;
                // Keep only the frames a later segment still needs.
                let keep_from = plan.get(next).map_or(available, |n| n.lo);
                window.drain(..(keep_from - window_start) * dim);
                window_start = keep_from;
            }
            Ok(())
        })?;
        Ok(Recognition {
            phones,
            frames,
            segments: plan.len(),
            audio: Some(conversion),
            silent_dbfs: None,
        })
    }

    /// Recognises normalised features (`frames × dim`, row-major); recordings longer than
    /// [`SEGMENT_FRAMES`] run segment by segment with [`CONTEXT_FRAMES`] of context each side.
    pub fn recognise(&self, feats: &[f32], dim: usize) -> Result<Recognition, DeployError> {
        if dim != self.input_dim {
            return Err(DeployError::Input(format!(
                "features of dimension {dim}; the model expects dimension {}",
                self.input_dim
            )));
        }
        if feats.is_empty() || !feats.len().is_multiple_of(dim) {
            return Err(DeployError::Input(format!(
                "{} feature values is not a whole number of frames of dimension {dim}",
                feats.len()
            )));
        }
        let frames = feats.len() / dim;
        let decoder = &self.decoder;
        let plan = segments(frames);
        let mut phones: Vec<&'static str> = Vec::new();
        for s in &plan {
            self.run_segment(decoder, &feats[s.lo * dim..s.hi * dim], s, &mut phones)?;
        }
        Ok(Recognition {
            phones,
            frames,
            segments: plan.len(),
            audio: None,
            silent_dbfs: None,
        })
    }

    /// Runs one segment (`feats`: its frames with context, `s.lo..s.hi`) and appends the phones
    /// of its own frames `s.start..s.end` to `phones`.
    fn run_segment(
        &self,
        decoder: &Decoder,
        feats: &[f32],
        s: &Segment,
        phones: &mut Vec<&'static str>,
    ) -> Result<(), DeployError> {
        let log_posteriors = self.forward(feats, s.hi - s.lo)?;
        let classes = log_posteriors.len() / (s.hi - s.lo);
        let kept = &log_posteriors[(s.start - s.lo) * classes..(s.end - s.lo) * classes];
        for (k, id) in decoder
            .decode(kept, s.end - s.start)
            .into_iter()
            .enumerate()
        {
            let phone = PHONES39.get(id as usize).copied().unwrap_or("?");
            // A phone cut by a segment boundary is decoded on both sides: merge it.
            if k == 0 && phones.last() == Some(&phone) {
                continue;
            }
            phones.push(phone);
        }
        Ok(())
    }

    /// Log posteriors (`frames × classes`) of `frames` normalised feature frames through the
    /// quantized engine, in one piece (no segments): what one utterance of an evaluation gets.
    pub fn forward(&self, feats: &[f32], frames: usize) -> Result<Vec<f32>, DeployError> {
        let mode = match &self.alphas {
            Some(a) => ActivationMode::Frozen(a),
            None => ActivationMode::PerUtterance,
        };
        match &self.engine {
            Engine::Sru {
                model,
                bits,
                weights,
            } => {
                let mut used = vec![0f32; bits.layers.len()];
                model
                    .forward(feats, frames, bits, weights, mode, &mut used)
                    .map_err(DeployError::engine("quantized inference"))
            }
            Engine::Rnn { model, widths } => {
                let mut used = vec![0f32; widths.len()];
                model
                    .forward(feats, frames, widths, mode, &mut used)
                    .map_err(|e| DeployError::Input(format!("quantized inference: {e}")))
            }
        }
    }
}

/// Frames per block of a streamed recording (10 s).
const BLOCK_FRAMES: usize = 1000;

/// One segment of a recording: frames `start..end` are decoded, `lo..hi` (with context) run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Segment {
    lo: usize,
    start: usize,
    end: usize,
    hi: usize,
}

/// The segments of a recording of `frames` frames: [`SEGMENT_FRAMES`] each, a short tail joined
/// to the last one rather than run with little context.
fn segments(frames: usize) -> Vec<Segment> {
    let mut plan = Vec::new();
    let mut start = 0;
    while start < frames {
        let end = if frames - start <= SEGMENT_FRAMES + CONTEXT_FRAMES {
            frames
        } else {
            start + SEGMENT_FRAMES
        };
        plan.push(Segment {
            lo: start.saturating_sub(CONTEXT_FRAMES),
            start,
            end,
            hi: (end + CONTEXT_FRAMES).min(frames),
        });
        start = end;
    }
    plan
}

/// Reads `stream` to its end in blocks of whole frames and calls `each(first frame, samples of
/// the block's frames, their features)`; frames are those of the whole signal (snip edges),
/// computed from the samples they span, so blocks change nothing.
fn feature_blocks(
    mut stream: AudioStream,
    fbank: &Fbank,
    mut each: impl FnMut(usize, &[i16], &[f32]) -> Result<(), DeployError>,
) -> Result<(), DeployError> {
    let g = fbank.geometry();
    let mut pending: Vec<i16> = Vec::with_capacity(BLOCK_FRAMES * g.shift + g.length);
    let mut first = 0;
    loop {
        let got = stream
            .read_into(BLOCK_FRAMES * g.shift, &mut pending)
            .map_err(|e| DeployError::Input(e.to_string()))?;
        let n = g.num_frames(pending.len());
        if n > 0 {
            let block = &pending[..(n - 1) * g.shift + g.length];
            each(first, block, &fbank.compute(block, 0))?;
            pending.drain(..n * g.shift);
            first += n;
        }
        if got == 0 {
            return Ok(());
        }
    }
}

/// The error for a recording shorter than one feature frame.
fn too_short(audio: &Path, samples: usize, options: &FbankOptions) -> DeployError {
    DeployError::file(
        audio,
        format!(
            "{samples} samples ({:.3} s) is shorter than one {} ms feature frame",
            samples as f64 / f64::from(options.sample_rate),
            options.frame_length_ms
        ),
    )
}

impl Recognition {
    /// A recording below [`SILENCE_DBFS`]: `sil`, not run through the model.
    fn silent(frames: usize, conversion: Conversion, level: f64) -> Self {
        Recognition {
            phones: vec![PHONES39[usize::from(crate::data::phones::SIL)]],
            frames,
            segments: 0,
            audio: Some(conversion),
            silent_dbfs: Some(level),
        }
    }
}
