//! The one error type of the crate. Every variant names what was wrong and where (file and key,
//! layer, or Bit Fusion shape), because these errors reach users who wrote a platform file or
//! passed bit widths on the command line.

use std::path::PathBuf;

/// Errors of workload construction, platform loading and cost evaluation.
#[derive(Debug, thiserror::Error)]
pub enum HwError {
    /// A platform or configuration file could not be read.
    #[error("{}: cannot read the file: {source}", file.display())]
    Io {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The TOML text is malformed, or has an unknown key, a missing key or a value of the wrong
    /// type. `message` is the TOML parser's, which names the key and the line.
    #[error("{file}: {message}")]
    Toml { file: String, message: String },

    /// A key parsed but its value is not acceptable (out of range, inconsistent with another key).
    #[error("{file}: key `{key}`: {reason}")]
    InvalidValue {
        file: String,
        key: String,
        reason: String,
    },

    /// The workload itself is malformed (no layers, zero sizes, duplicate names...).
    #[error("invalid workload `{workload}`: {reason}")]
    InvalidWorkload { workload: String, reason: String },

    /// The number of (weight, activation) bit pairs differs from the number of workload layers.
    #[error("expected {expected} (weight bits, activation bits) pairs, one per layer of workload `{workload}`, got {got}")]
    LayerCountMismatch {
        workload: String,
        expected: usize,
        got: usize,
    },

    /// A layer asks for a precision the platform cannot run.
    #[error("platform `{platform}`, layer {index} (`{layer}`): weights {weight_bits} bits / activations {activation_bits} bits: {reason}")]
    UnsupportedPrecision {
        platform: String,
        index: usize,
        layer: String,
        weight_bits: u32,
        activation_bits: u32,
        reason: String,
    },

    /// The Bit Fusion simulation needs a layer's input and output sizes, not only its MAC count.
    #[error("layer `{layer}` has no (inputs, outputs) shape; the Bit Fusion simulation needs one")]
    MissingShape { layer: String },

    /// A fully connected layer given to the Bit Fusion simulation is out of the supported range.
    #[error("invalid Bit Fusion layer: {reason}")]
    InvalidLayer { reason: String },

    /// No tile size fits the (double-buffered) on-chip buffers of the configuration.
    #[error("Bit Fusion configuration `{config}`: no tiling of a {inputs}x{outputs} layer (batch {batch}, activations {activation_bits} bits, weights {weight_bits} bits) fits its buffers")]
    NoFeasibleTiling {
        config: String,
        inputs: u64,
        outputs: u64,
        batch: u64,
        activation_bits: u32,
        weight_bits: u32,
    },

    /// A line of a measured cost table (`cost_model = "table"`) is malformed, or names a layer
    /// the workload does not have.
    #[error("{file}, line {line}: {reason}")]
    TableRow {
        file: String,
        line: usize,
        reason: String,
    },

    /// A measured cost table has no row for a layer at the widths asked for.
    #[error("{file}: no measurement for layer `{layer}` at weights {weight_bits} bits / activations {activation_bits} bits: {reason}")]
    MissingMeasurement {
        file: String,
        layer: String,
        weight_bits: u32,
        activation_bits: u32,
        reason: String,
    },

    /// Gene vectors given to a helper have the wrong length or values.
    #[error("invalid genes: {reason}")]
    InvalidGenes { reason: String },
}

impl HwError {
    /// Shorthand for [`HwError::InvalidValue`].
    pub(crate) fn invalid(file: &str, key: &str, reason: impl Into<String>) -> Self {
        HwError::InvalidValue {
            file: file.to_string(),
            key: key.to_string(),
            reason: reason.into(),
        }
    }
}
