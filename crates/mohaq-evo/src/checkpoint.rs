//! One checkpoint file per run directory, rewritten atomically after every generation.
//!
//! The file holds the configuration, the generation reached, the generator's exact state, the
//! population (with rank and crowding) and the archive of every evaluation. It is written to a
//! temporary file in the same directory, flushed to disk, then renamed over the old one, so a
//! run killed at any moment leaves either the previous checkpoint or the new one, never a torn
//! file.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Nsga2Config;
use crate::error::CheckpointError;
use crate::problem::Space;
use crate::state::Nsga2State;

/// The checkpoint's file name inside a run directory.
pub const CHECKPOINT_FILE: &str = "checkpoint.json";
const FORMAT_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct CheckpointFile {
    format_version: u32,
    config: Nsga2Config,
    space: Space,
    state: Nsga2State,
}

#[derive(Serialize)]
struct CheckpointFileRef<'a> {
    format_version: u32,
    config: &'a Nsga2Config,
    space: &'a Space,
    state: &'a Nsga2State,
}

/// Where a run directory keeps its checkpoint.
pub fn checkpoint_path(run_dir: &Path) -> PathBuf {
    run_dir.join(CHECKPOINT_FILE)
}

/// Writes the checkpoint atomically (temporary file, fsync, rename).
pub fn save(
    run_dir: &Path,
    config: &Nsga2Config,
    space: &Space,
    state: &Nsga2State,
) -> Result<(), CheckpointError> {
    let path = checkpoint_path(run_dir);
    let io = |source| CheckpointError::Io {
        path: path.clone(),
        source,
    };
    fs::create_dir_all(run_dir).map_err(io)?;
    let body = CheckpointFileRef {
        format_version: FORMAT_VERSION,
        config,
        space,
        state,
    };
    let json = serde_json::to_vec(&body).map_err(|source| CheckpointError::Json {
        path: path.clone(),
        source,
    })?;
    mohaq_fsio::write_atomic(&path, &json).map_err(io)
}

/// Reads the run directory's checkpoint, if there is one, and checks it belongs to this
/// configuration and decision space.
pub fn load(
    run_dir: &Path,
    config: &Nsga2Config,
    space: &Space,
) -> Result<Option<Nsga2State>, CheckpointError> {
    let path = checkpoint_path(run_dir);
    let Some(file) = read_versioned(&path, FORMAT_VERSION, |f: &CheckpointFile| f.format_version)?
    else {
        return Ok(None);
    };
    if let Some(field) = config.trajectory_mismatch(&file.config) {
        return Err(CheckpointError::Mismatch {
            path,
            field,
            detail: "stored configuration does not match".into(),
        });
    }
    if &file.space != space {
        return Err(CheckpointError::Mismatch {
            path,
            field: "space",
            detail: "the stored decision space is another problem's".into(),
        });
    }
    Ok(Some(file.state))
}

/// Reads the JSON checkpoint at `path` written in format `expected`: `None` when there is none;
/// an error naming the file when it cannot be read or parsed, or holds another format version.
/// Both checkpoints (the engine's and a replayed strategy's) are read through it.
pub(crate) fn read_versioned<T: serde::de::DeserializeOwned>(
    path: &Path,
    expected: u32,
    version_of: impl Fn(&T) -> u32,
) -> Result<Option<T>, CheckpointError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(CheckpointError::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let file: T = serde_json::from_slice(&bytes).map_err(|source| CheckpointError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    let found = version_of(&file);
    if found != expected {
        return Err(CheckpointError::Version {
            path: path.to_path_buf(),
            found,
            expected,
        });
    }
    Ok(Some(file))
}
