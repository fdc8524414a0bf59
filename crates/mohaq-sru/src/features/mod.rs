//! Features: Kaldi-compatible filterbank, per-speaker normalisation, frame targets, the on-disk
//! feature cache and datasets of a split.

pub mod cache;
pub mod cmvn;
pub mod dataset;
pub mod dump;
pub mod fbank;
pub mod level;
pub mod targets;

pub use cache::{default_cache_dir, FeatureCache};
pub use dataset::{load_entries, load_split, load_utterance, Dataset, LoadOptions, Utterance};
pub use dump::write_utterance;
pub use fbank::{Fbank, FbankOptions, FrameGeometry};
pub use targets::{class_of, phone_of_class, NUM_CLASSES};
