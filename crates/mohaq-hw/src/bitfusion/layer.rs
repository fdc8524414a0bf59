//! A fully connected layer as the Bit Fusion simulation sees it: a 1×1 convolution over a batch.

use crate::error::HwError;
use serde::Serialize;

/// Largest input or output size accepted; with [`MAX_BATCH`] and 32-bit operands this keeps every
/// traffic counter far below `u64::MAX`.
pub const MAX_DIMENSION: u64 = 1 << 20;
/// Largest batch accepted.
pub const MAX_BATCH: u64 = 1 << 12;
/// Widest operand accepted.
pub const MAX_BITS: u32 = 32;

/// One fully connected layer `inputs → outputs` over `batch` frames at given widths. It is also
/// the cache key of the tiling search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct FcLayer {
    pub inputs: u64,
    pub outputs: u64,
    pub batch: u64,
    pub activation_bits: u32,
    pub weight_bits: u32,
}

impl FcLayer {
    /// A validated layer.
    pub fn new(
        inputs: u64,
        outputs: u64,
        batch: u64,
        activation_bits: u32,
        weight_bits: u32,
    ) -> Result<Self, HwError> {
        let layer = FcLayer {
            inputs,
            outputs,
            batch,
            activation_bits,
            weight_bits,
        };
        layer.validate()?;
        Ok(layer)
    }

    pub(crate) fn validate(&self) -> Result<(), HwError> {
        let bad = |reason: String| Err(HwError::InvalidLayer { reason });
        for (what, value) in [("inputs", self.inputs), ("outputs", self.outputs)] {
            if !(1..=MAX_DIMENSION).contains(&value) {
                return bad(format!("{what} = {value} is not in 1..={MAX_DIMENSION}"));
            }
        }
        if !(1..=MAX_BATCH).contains(&self.batch) {
            return bad(format!("batch = {} is not in 1..={MAX_BATCH}", self.batch));
        }
        for (what, value) in [
            ("activation bits", self.activation_bits),
            ("weight bits", self.weight_bits),
        ] {
            if !(1..=MAX_BITS).contains(&value) {
                return bad(format!("{what} = {value} is not in 1..={MAX_BITS}"));
            }
        }
        Ok(())
    }
}
