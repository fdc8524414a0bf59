//! Retrained beacons on disk, shared by runs: `<key>.weights` (whatever the retrainer writes)
//! and `<key>.json` (metadata with the weights' sha256, verified on every load). Both go through
//! mohaq-fsio's one atomic write (synced, renamed, folder synced), the weights first, so a
//! metadata file always describes complete weights; a retraining killed halfway keeps its
//! private `<key>.work/` folder and resumes from it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{BeaconStoreError, ModelFailure};
use crate::fsio::{
    remove_stale_temps, sha256_bytes, sha256_file, write_atomic_with, write_json_atomic,
};
use crate::genes::LayerBits;
use crate::model::Retrainer;

/// Why the weights of a new beacon could not be written: the retrainer's save failed, or the
/// file system (hashing, syncing, renaming).
enum WeightsWrite {
    Model(ModelFailure),
    Io(std::io::Error),
}

impl From<std::io::Error> for WeightsWrite {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

/// What is known about a stored beacon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BeaconMeta {
    pub key: String,
    /// The retrainer's identity (base model and settings).
    pub identity: String,
    /// Widths it was retrained at.
    pub bits: LayerBits,
    pub epochs: usize,
    /// File name of the weights, next to the metadata.
    pub weights_file: String,
    pub weights_sha256: String,
    /// Seconds the retraining took (0 when unknown).
    pub retrain_seconds: f64,
}

/// A folder of retrained beacons.
#[derive(Debug, Clone)]
pub struct BeaconStore {
    dir: PathBuf,
}

/// A beacon's weights with their metadata, and whether they came from disk.
#[derive(Debug)]
pub struct Loaded<W> {
    pub weights: W,
    pub meta: BeaconMeta,
    pub reused: bool,
}

impl BeaconStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The key of a beacon: a hash of the retrainer identity, widths and epochs.
    pub fn key(identity: &str, bits: &LayerBits, epochs: usize) -> String {
        let text = format!("{identity}|{}|{epochs}", bits.display_genes());
        sha256_bytes(text.as_bytes())[..16].to_string()
    }

    fn meta_path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    fn weights_path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.weights"))
    }

    /// The private work folder of a retraining in progress.
    pub fn work_dir(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.work"))
    }

    /// Every beacon in the store, by key (metadata only; checksums are not verified here).
    /// Every stored beacon with whether its weights still match their sha256.
    pub fn verify(&self) -> Result<Vec<(BeaconMeta, bool)>, BeaconStoreError> {
        Ok(self
            .list()?
            .into_iter()
            .map(|m| {
                let path = self.dir.join(&m.weights_file);
                let intact = sha256_file(&path).is_ok_and(|s| s == m.weights_sha256);
                (m, intact)
            })
            .collect())
    }

    pub fn list(&self) -> Result<Vec<BeaconMeta>, BeaconStoreError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(BeaconStoreError::Io {
                    path: self.dir.clone(),
                    action: "listing the beacon store",
                    source,
                })
            }
        };
        let mut metas = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "json") {
                metas.push(read_meta(&path)?);
            }
        }
        metas.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(metas)
    }

    /// Metadata of a stored beacon, if there is one.
    pub fn meta(&self, key: &str) -> Result<Option<BeaconMeta>, BeaconStoreError> {
        let path = self.meta_path(key);
        if !path.exists() {
            return Ok(None);
        }
        read_meta(&path).map(Some)
    }

    /// Loads a stored beacon after checking its checksum; `None` if it is not stored.
    pub fn load<W>(
        &self,
        key: &str,
        retrainer: &dyn Retrainer<W>,
    ) -> Result<Option<Loaded<W>>, BeaconStoreError> {
        let Some(meta) = self.meta(key)? else {
            return Ok(None);
        };
        let path = self.dir.join(&meta.weights_file);
        let actual = sha256_file(&path).map_err(|source| BeaconStoreError::Io {
            path: path.clone(),
            action: "reading beacon weights",
            source,
        })?;
        if actual != meta.weights_sha256 {
            return Err(BeaconStoreError::Corrupt {
                path,
                expected: meta.weights_sha256.clone(),
                actual,
            });
        }
        let weights = retrainer
            .load(&path)
            .map_err(|source| BeaconStoreError::Model {
                key: key.to_string(),
                source,
            })?;
        Ok(Some(Loaded {
            weights,
            meta,
            reused: true,
        }))
    }

    /// The beacon retrained at `bits` for `epochs`: from the store if it is there (checksum
    /// verified), else retrained now and stored.
    pub fn get_or_retrain<W>(
        &self,
        bits: &LayerBits,
        epochs: usize,
        retrainer: &dyn Retrainer<W>,
    ) -> Result<Loaded<W>, BeaconStoreError> {
        let identity = retrainer.identity();
        let key = Self::key(&identity, bits, epochs);
        if let Some(loaded) = self.load(&key, retrainer)? {
            tracing::info!(key, "reusing stored beacon");
            return Ok(loaded);
        }
        let io = |path: &Path, action: &'static str| {
            let path = path.to_path_buf();
            move |source| BeaconStoreError::Io {
                path,
                action,
                source,
            }
        };
        let work = self.work_dir(&key);
        std::fs::create_dir_all(&work).map_err(io(&work, "creating the beacon work folder"))?;
        tracing::info!(key, bits = %bits.display_genes(), epochs, "retraining beacon");
        let start = std::time::Instant::now();
        let weights =
            retrainer
                .retrain(bits, epochs, &work)
                .map_err(|source| BeaconStoreError::Model {
                    key: key.clone(),
                    source,
                })?;
        let retrain_seconds = start.elapsed().as_secs_f64();
        tracing::info!(key, seconds = retrain_seconds.round(), "beacon retrained");
        let weights_path = self.weights_path(&key);
        // Temporaries of a store write killed earlier are of no use to anyone.
        remove_stale_temps(&weights_path);
        let weights_sha256 = write_atomic_with(&weights_path, |tmp| {
            retrainer.save(&weights, tmp).map_err(WeightsWrite::Model)?;
            Ok(sha256_file(tmp)?)
        })
        .map_err(|e| match e {
            WeightsWrite::Model(source) => BeaconStoreError::Model {
                key: key.clone(),
                source,
            },
            WeightsWrite::Io(source) => BeaconStoreError::Io {
                path: weights_path.clone(),
                action: "writing beacon weights",
                source,
            },
        })?;
        let meta = BeaconMeta {
            key: key.clone(),
            identity,
            bits: *bits,
            epochs,
            weights_file: format!("{key}.weights"),
            weights_sha256,
            retrain_seconds,
        };
        let meta_path = self.meta_path(&key);
        write_json_atomic(&meta_path, &meta).map_err(io(&meta_path, "writing beacon metadata"))?;
        // The retraining's checkpoints are no longer needed.
        let _ = std::fs::remove_dir_all(&work);
        Ok(Loaded {
            weights,
            meta,
            reused: false,
        })
    }
}

fn read_meta(path: &Path) -> Result<BeaconMeta, BeaconStoreError> {
    let text = std::fs::read_to_string(path).map_err(|source| BeaconStoreError::Io {
        path: path.to_path_buf(),
        action: "reading beacon metadata",
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| BeaconStoreError::BadMetadata {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::SyntheticModel;

    #[test]
    fn retrains_once_then_reuses_and_detects_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let store = BeaconStore::new(dir.path());
        let model = SyntheticModel::new();
        let bits = LayerBits::uniform(4);
        let first = store.get_or_retrain(&bits, 2, &model).unwrap();
        assert!(!first.reused);
        let second = store.get_or_retrain(&bits, 2, &model).unwrap();
        assert!(second.reused);
        assert_eq!(second.weights, first.weights);
        assert_eq!(model.retrainings(), 1);
        assert_eq!(store.list().unwrap().len(), 1);
        assert!(!store.work_dir(&first.meta.key).exists());

        // Flip the weights file: loading must fail and name the file.
        let weights = dir.path().join(&first.meta.weights_file);
        std::fs::write(&weights, b"{\"garbage\": 1}").unwrap();
        let err = store.get_or_retrain(&bits, 2, &model).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("corrupt") && msg.contains(".weights"), "{msg}");
        assert_eq!(model.retrainings(), 1);

        // Broken metadata is a clear error too.
        std::fs::write(dir.path().join(format!("{}.json", first.meta.key)), b"{").unwrap();
        let err = store.get_or_retrain(&bits, 2, &model).unwrap_err();
        assert!(err.to_string().contains("metadata"), "{err}");
    }

    #[test]
    fn key_depends_on_identity_bits_and_epochs() {
        let a = BeaconStore::key("m", &LayerBits::uniform(4), 2);
        assert_ne!(a, BeaconStore::key("m2", &LayerBits::uniform(4), 2));
        assert_ne!(a, BeaconStore::key("m", &LayerBits::uniform(8), 2));
        assert_ne!(a, BeaconStore::key("m", &LayerBits::uniform(4), 3));
        assert_eq!(a, BeaconStore::key("m", &LayerBits::uniform(4), 2));
    }
}
