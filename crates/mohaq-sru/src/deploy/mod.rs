//! A quantized model as a file, and recognition with it.
//!
//! [`format`] is the exported model: packed integer weights beside a companion bundle with the
//! widths and the frozen activation thresholds, for the SRU; [`rnn_format`] the same for an
//! LSTM/GRU, tagged with its kind. [`recogniser`] opens either (or a float bundle
//! quantized on the fly) and turns a recording into phones.

pub mod error;
pub mod format;
pub mod recogniser;
pub mod rnn_format;

pub use error::DeployError;
pub use format::{companion_path, read_exported, write_exported, ExportedFiles, ExportedModel};
pub use recogniser::{Recogniser, Recognition};
pub use rnn_format::{read_exported_rnn, write_exported_rnn, ExportedRnn};
