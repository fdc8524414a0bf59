//! The crate's one error type. Every fallible public function returns [`QuantError`], so callers
//! can match on the problem instead of parsing strings.

use std::path::PathBuf;

/// What went wrong while quantizing, packing, multiplying or exporting.
#[derive(Debug, thiserror::Error)]
pub enum QuantError {
    /// A bit width outside {2, 4, 8, 16}.
    #[error("unsupported bit width {0}: only 2, 4, 8 and 16 are allowed")]
    InvalidBitWidth(u32),
    /// A tensor with no elements where values are required (calibration, matrices).
    #[error("{what}: tensor is empty")]
    Empty { what: &'static str },
    /// NaN or ±inf in an input tensor.
    #[error("{what}: non-finite value {value} at index {index}")]
    NonFinite {
        what: &'static str,
        index: usize,
        value: f32,
    },
    /// Sizes that do not fit together (slice length vs rows × cols, or X cols vs W cols).
    #[error("shape mismatch in {what}: expected {expected}, got {got}")]
    ShapeMismatch {
        what: &'static str,
        expected: String,
        got: String,
    },
    /// A clipping threshold or scale that is not a positive finite number.
    #[error("invalid quantization parameter {what}: {value}")]
    InvalidParam { what: &'static str, value: f32 },
    /// An integer code outside the range of its bit width.
    #[error("integer {value} at index {index} does not fit in {bits} bits")]
    CodeOutOfRange { index: usize, value: i32, bits: u32 },
    /// A kernel path was requested that this CPU cannot run.
    #[error("kernel path {0} is not available on this CPU")]
    KernelUnavailable(&'static str),
    /// Errors from candle while building or running tensor ops.
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
    /// A quantized-model file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A quantized-model file is malformed (names the file and the tensor key).
    #[error("{path}: tensor `{key}`: {problem}")]
    Format {
        path: PathBuf,
        key: String,
        problem: String,
    },
}

impl QuantError {
    pub(crate) fn shape(what: &'static str, expected: impl ToString, got: impl ToString) -> Self {
        QuantError::ShapeMismatch {
            what,
            expected: expected.to_string(),
            got: got.to_string(),
        }
    }
}

/// Rejects empty slices and slices holding NaN or ±inf; `what` names the tensor in the error.
pub(crate) fn check_finite(values: &[f32], what: &'static str) -> Result<(), QuantError> {
    if values.is_empty() {
        return Err(QuantError::Empty { what });
    }
    if all_finite(values) {
        return Ok(());
    }
    let index = values.iter().position(|v| !v.is_finite()).unwrap_or(0);
    Err(QuantError::NonFinite {
        what,
        index,
        value: values[index],
    })
}

/// Whether no value is NaN or ±inf. An OR over exponent tests, not a short-circuiting search,
/// so that it vectorizes: the check runs on every activation of every candidate evaluation.
fn all_finite(values: &[f32]) -> bool {
    const EXPONENT: u32 = 0x7f80_0000;
    let non_finite = values.iter().fold(0u32, |any, v| {
        any | u32::from(v.to_bits() & EXPONENT == EXPONENT)
    });
    non_finite == 0
}

impl From<mohaq_precision::InvalidBitWidth> for QuantError {
    fn from(e: mohaq_precision::InvalidBitWidth) -> Self {
        QuantError::InvalidBitWidth(e.0)
    }
}
