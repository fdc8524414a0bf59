//! Datasets: the utterances of a split as normalised features, frame targets and reference phones.
//!
//! Loading runs per utterance in parallel (rayon): read the audio bytes, look the features up in
//! the cache (or decode and compute them and store them), read and fold the labels, cut the
//! features to the labelled span. Speaker normalisation follows once all utterances of the split
//! are in. Results keep the corpus's id order whatever the thread count.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::cache::{cache_key, default_cache_dir, key_seed, CachedFeatures, FeatureCache};
use super::cmvn::normalize_per_speaker;
use super::fbank::{Fbank, FbankOptions};
use super::targets::{frame_targets, phone_sequence};
use crate::data::audio::decode_audio;
use crate::data::corpus::{Corpus, UttEntry};
use crate::data::error::DataError;
use crate::data::labels::read_labels;
use crate::data::splits::{select, Split};

/// One utterance ready for training or scoring.
#[derive(Clone, Debug)]
pub struct Utterance {
    /// Unique id, e.g. `dr5-ftlg0/si1743` or a Kathleen file stem.
    pub id: String,
    pub speaker: String,
    /// Feature dimension (number of mel bins).
    pub dim: usize,
    /// `num_frames x dim`, row-major; per-speaker normalised in a [`Dataset`].
    pub feats: Vec<f32>,
    /// Frame classes in `0..NUM_CLASSES`, one per frame.
    pub targets: Vec<u32>,
    /// Reference 39-phone sequence, equal neighbours merged (for PER).
    pub phones: Vec<u8>,
}

impl Utterance {
    pub fn num_frames(&self) -> usize {
        self.targets.len()
    }
}

/// The utterances of a split, in id order.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    pub utterances: Vec<Utterance>,
}

impl Dataset {
    pub fn num_frames(&self) -> usize {
        self.utterances.iter().map(Utterance::num_frames).sum()
    }
}

/// How to load a split.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    pub fbank: FbankOptions,
    /// Train split = Kathleen + TIMIT dr1–dr4 when true (the suggested split), TIMIT only otherwise.
    pub include_kathleen: bool,
    /// Cache directory; `None` = [`default_cache_dir`] (`$MOHAQ_CACHE` or `~/.cache/mohaq`).
    pub cache_dir: Option<PathBuf>,
    /// Read and write the feature cache at all.
    pub use_cache: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            fbank: FbankOptions::default(),
            include_kathleen: true,
            cache_dir: None,
            use_cache: true,
        }
    }
}

impl LoadOptions {
    fn cache(&self) -> Option<FeatureCache> {
        self.use_cache
            .then(|| FeatureCache::new(self.cache_dir.clone().unwrap_or_else(default_cache_dir)))
    }
}

/// Features of the whole signal, through the cache when there is one.
///
/// A corrupt or unwritable cache only costs time: it is reported as a warning and the features
/// are computed from the audio, which is the ground truth.
pub fn signal_features(
    entry_audio: &Path,
    fbank: &Fbank,
    cache: Option<&FeatureCache>,
) -> Result<CachedFeatures, DataError> {
    let bytes = std::fs::read(entry_audio).map_err(|e| DataError::io(entry_audio, e))?;
    let key = cache_key(&bytes, fbank.options());
    if let Some(cache) = cache {
        match cache.load(&key) {
            Ok(Some(hit)) if hit.dim == fbank.dim() => return Ok(hit),
            Ok(_) => {}
            Err(e) => tracing::warn!("{e}; recomputing"),
        }
    }
    let audio = decode_audio(entry_audio, &bytes, fbank.options().sample_rate)?;
    let feats = fbank.compute(&audio.samples, key_seed(&key));
    let entry = CachedFeatures {
        num_samples: audio.samples.len() as u64,
        dim: fbank.dim(),
        feats,
    };
    if let Some(cache) = cache {
        if let Err(e) = cache.store(&key, &entry) {
            tracing::warn!("feature cache not written: {e}");
        }
    }
    Ok(entry)
}

/// One utterance with unnormalised features, cut to its labelled span.
pub fn load_utterance(
    entry: &UttEntry,
    fbank: &Fbank,
    cache: Option<&FeatureCache>,
) -> Result<Utterance, DataError> {
    let signal = signal_features(&entry.audio, fbank, cache)?;
    if !entry.labels.exists() {
        return Err(DataError::MissingLabels {
            path: entry.labels.clone(),
        });
    }
    let segments = read_labels(&entry.labels, entry.phone_set, Some(signal.num_samples))?;
    let dim = signal.dim;
    let num_frames = signal.feats.len() / dim.max(1);
    let framed = frame_targets(&segments, num_frames, fbank.geometry());
    if framed.targets.is_empty() {
        return Err(DataError::NoFrames {
            path: entry.labels.clone(),
        });
    }
    let start = framed.first_frame * dim;
    let feats = signal.feats[start..start + framed.targets.len() * dim].to_vec();
    Ok(Utterance {
        id: entry.id.clone(),
        speaker: entry.speaker.clone(),
        dim,
        feats,
        targets: framed.targets,
        phones: phone_sequence(&segments),
    })
}

/// Loads utterances in parallel (id order kept) and normalises them per speaker.
pub fn load_entries(entries: &[&UttEntry], opts: &LoadOptions) -> Result<Dataset, DataError> {
    let fbank = Fbank::new(&opts.fbank)?;
    let cache = opts.cache();
    let loaded: Vec<Result<Utterance, DataError>> = entries
        .par_iter()
        .map(|e| load_utterance(e, &fbank, cache.as_ref()))
        .collect();
    let mut utterances = loaded.into_iter().collect::<Result<Vec<_>, _>>()?;
    {
        let mut items: Vec<(&str, &mut Vec<f32>)> = utterances
            .iter_mut()
            .map(|u| (u.speaker.as_str(), &mut u.feats))
            .collect();
        normalize_per_speaker(fbank.dim(), &mut items);
    }
    Ok(Dataset { utterances })
}

/// Loads a split of the corpus under `data_dir` (see [`crate::data::splits`] for membership).
pub fn load_split(data_dir: &Path, split: Split, opts: &LoadOptions) -> Result<Dataset, DataError> {
    let corpus = Corpus::discover(data_dir)?;
    let entries = select(&corpus, split, opts.include_kathleen);
    if entries.is_empty() {
        tracing::warn!("{}: split {split} has no utterances", data_dir.display());
    }
    load_entries(&entries, opts)
}
