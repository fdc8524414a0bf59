//! A quantized model as a file, and recognition with it.
//!
//! [`format`] is the exported model: packed integer weights beside a companion bundle with the
//! widths and the frozen activation thresholds. [`recogniser`] opens one (or a float bundle
//! quantized on the fly) and turns a recording into phones.

pub mod error;
pub mod format;
pub mod recogniser;

pub use error::DeployError;
pub use format::{companion_path, read_exported, write_exported, ExportedFiles, ExportedModel};
pub use recogniser::{Recogniser, Recognition};
