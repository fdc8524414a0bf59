//! Corpus readers: audio containers, label files, phone sets, corpus layouts, splits and checks.
//!
//! Everything here works on files; turning audio into features lives in [`crate::features`].

pub mod audio;
pub mod check;
pub mod corpus;
pub mod error;
pub mod labels;
pub mod phones;
pub mod resample;
pub mod sphere;
pub mod splits;
pub mod stats;
pub mod stream;
pub mod wav;

pub use corpus::{Corpus, CorpusKind, UttEntry};
pub use error::DataError;
pub use splits::Split;

use std::path::PathBuf;

/// The data directory: `$MOHAQ_DATA`, else `../shared/data` (relative to the working directory,
/// which is the workspace root in normal use).
pub fn default_data_dir() -> PathBuf {
    match std::env::var_os("MOHAQ_DATA") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from("../shared/data"),
    }
}
