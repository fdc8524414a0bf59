//! Typed errors of quantized inference.

use super::bits::GeneError;
use crate::model::ModelError;

#[derive(Debug, thiserror::Error)]
pub enum QuantizedError {
    #[error(transparent)]
    Bits(#[from] GeneError),
    #[error("quantization: {0}")]
    Quant(#[from] mohaq_quant::QuantError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("input: {0}")]
    Input(String),
    #[error("frozen activations were calibrated for bits {calibrated}, not {requested}")]
    FrozenMismatch {
        calibrated: String,
        requested: String,
    },
}
