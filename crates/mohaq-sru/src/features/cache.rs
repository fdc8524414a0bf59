//! On-disk cache of filterbank features, so that a second run reads instead of recomputing.
//!
//! One safetensors file per utterance, named by the SHA-256 of a format tag, the filterbank
//! options (as JSON) and the audio file's bytes: changing the audio or any option changes the key,
//! so stale entries are never read. Entries hold the features of the whole signal (before
//! trimming to the labelled span and before speaker normalisation, which depend on other files)
//! and the signal's sample count. Writes go to a temporary file that is renamed into place, so a
//! crashed or concurrent run never leaves a half-written entry under a valid name.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::{tensor::TensorView, Dtype};
use sha2::{Digest, Sha256};

use super::fbank::FbankOptions;
use crate::data::error::DataError;

/// Bumped whenever the feature computation changes in a way the options do not capture.
const FORMAT_TAG: &[u8] = b"mohaq-fbank-v1\0";
const TENSOR: &str = "fbank";
const NUM_SAMPLES_KEY: &str = "num_samples";

/// Features of one signal as stored in the cache.
#[derive(Clone, Debug, PartialEq)]
pub struct CachedFeatures {
    pub num_samples: u64,
    pub dim: usize,
    /// `frames x dim`, row-major.
    pub feats: Vec<f32>,
}

/// A cache directory (entries live in its `fbank/` subdirectory).
#[derive(Clone, Debug)]
pub struct FeatureCache {
    dir: PathBuf,
}

/// `$MOHAQ_CACHE`, else `$HOME/.cache/mohaq`, else `.mohaq-cache` in the working directory.
pub fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MOHAQ_CACHE").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(home) => PathBuf::from(home).join(".cache").join("mohaq"),
        None => PathBuf::from(".mohaq-cache"),
    }
}

/// The cache key of an audio file's bytes under some options (hex SHA-256).
pub fn cache_key(audio_bytes: &[u8], opts: &FbankOptions) -> String {
    let mut hasher = Sha256::new();
    hasher.update(FORMAT_TAG);
    // Serialising a plain struct of numbers and bools cannot fail.
    hasher.update(serde_json::to_vec(opts).expect("FbankOptions serialise"));
    hasher.update(b"\0");
    hasher.update(audio_bytes);
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A 64-bit digest of the key, used to seed per-utterance dither.
pub fn key_seed(key: &str) -> u64 {
    u64::from_str_radix(&key[..16.min(key.len())], 16).unwrap_or(0)
}

impl FeatureCache {
    pub fn new(dir: impl Into<PathBuf>) -> FeatureCache {
        FeatureCache { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn entry_path(&self, key: &str) -> PathBuf {
        self.dir.join("fbank").join(format!("{key}.safetensors"))
    }

    /// The entry for `key`, `None` when absent. A corrupt entry is an error naming the file.
    pub fn load(&self, key: &str) -> Result<Option<CachedFeatures>, DataError> {
        let path = self.entry_path(key);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(DataError::io(path, e)),
        };
        decode_entry(&path, &bytes).map(Some)
    }

    /// Stores an entry atomically (temporary file + rename).
    pub fn store(&self, key: &str, entry: &CachedFeatures) -> Result<(), DataError> {
        let path = self.entry_path(key);
        let dir = self.dir.join("fbank");
        std::fs::create_dir_all(&dir).map_err(|e| DataError::io(&dir, e))?;
        let bytes = encode_entry(entry).map_err(|reason| DataError::Cache {
            path: path.clone(),
            reason,
        })?;
        mohaq_fsio::write_atomic(&path, &bytes).map_err(|e| DataError::io(&path, e))
    }
}

fn encode_entry(entry: &CachedFeatures) -> Result<Vec<u8>, String> {
    let frames = entry.feats.len().checked_div(entry.dim).unwrap_or(0);
    let data: Vec<u8> = entry.feats.iter().flat_map(|v| v.to_le_bytes()).collect();
    let view =
        TensorView::new(Dtype::F32, vec![frames, entry.dim], &data).map_err(|e| e.to_string())?;
    let metadata = HashMap::from([(NUM_SAMPLES_KEY.to_string(), entry.num_samples.to_string())]);
    safetensors::serialize([(TENSOR, view)], Some(metadata)).map_err(|e| e.to_string())
}

fn decode_entry(path: &Path, bytes: &[u8]) -> Result<CachedFeatures, DataError> {
    let corrupt = |reason: String| DataError::Cache {
        path: path.to_path_buf(),
        reason,
    };
    let (tensors, metadata) = mohaq_quant::safetensors_file::parse(bytes).map_err(corrupt)?;
    let num_samples = metadata
        .get(NUM_SAMPLES_KEY)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| corrupt(format!("metadata {NUM_SAMPLES_KEY} missing")))?;
    let view = tensors.tensor(TENSOR).map_err(|e| corrupt(e.to_string()))?;
    if view.dtype() != Dtype::F32 || view.shape().len() != 2 {
        return Err(corrupt(format!(
            "tensor {TENSOR} is {:?} {:?}, expected F32 [frames, dim]",
            view.dtype(),
            view.shape()
        )));
    }
    let dim = view.shape()[1];
    let feats = view
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok(CachedFeatures {
        num_samples,
        dim,
        feats,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_then_load_and_keys_separate_options() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FeatureCache::new(dir.path());
        let opts = FbankOptions::default();
        let key = cache_key(b"audio", &opts);
        assert_ne!(
            key,
            cache_key(
                b"audio",
                &FbankOptions {
                    num_bins: 40,
                    ..Default::default()
                }
            )
        );
        assert_ne!(key, cache_key(b"audiO", &opts));
        assert_eq!(cache.load(&key).unwrap(), None);
        let entry = CachedFeatures {
            num_samples: 1234,
            dim: 2,
            feats: vec![1.0, -2.5, 3.0, 4.0],
        };
        cache.store(&key, &entry).unwrap();
        assert_eq!(cache.load(&key).unwrap(), Some(entry));
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path().join("fbank"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn corrupt_entry_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FeatureCache::new(dir.path());
        std::fs::create_dir_all(dir.path().join("fbank")).unwrap();
        std::fs::write(
            dir.path().join("fbank/abc.safetensors"),
            b"garbage!garbage!",
        )
        .unwrap();
        let err = cache.load("abc").unwrap_err();
        assert!(err.to_string().contains("abc.safetensors"), "{err}");
    }
}
