//! Quantized activations in the layout the kernels read: i16 codes, rows padded with zeros to a
//! multiple of [`ACT_ALIGN`] so the SIMD loop needs no tail handling.

use crate::error::check_finite;
use crate::pack::check_shape;
use crate::params::check_codes;
use crate::{QuantError, QuantParams};

/// Row padding of activations and unpacked weight rows (16 i16 = one 256-bit register).
pub const ACT_ALIGN: usize = 16;

/// A `rows × cols` matrix of activation codes (one frame per row) and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizedActivations {
    params: QuantParams,
    rows: usize,
    cols: usize,
    stride: usize,
    data: Vec<i16>,
}

impl QuantizedActivations {
    /// Quantizes row-major f32 frames (`rows × cols`) with `params`.
    pub fn quantize(
        values: &[f32],
        rows: usize,
        cols: usize,
        params: QuantParams,
    ) -> Result<Self, QuantError> {
        check_shape(values.len(), rows, cols, "activations")?;
        check_finite(values, "activations")?;
        Ok(Self::build(rows, cols, params, |i| {
            params.quantize_one(values[i]) as i16
        }))
    }

    /// Wraps integer codes (each must fit `params.bits`).
    pub fn from_codes(
        codes: &[i32],
        rows: usize,
        cols: usize,
        params: QuantParams,
    ) -> Result<Self, QuantError> {
        check_shape(codes.len(), rows, cols, "activation codes")?;
        check_codes(codes, params.bits)?;
        Ok(Self::build(rows, cols, params, |i| codes[i] as i16))
    }

    fn build(rows: usize, cols: usize, params: QuantParams, code: impl Fn(usize) -> i16) -> Self {
        let stride = cols.next_multiple_of(ACT_ALIGN);
        let mut data = vec![0i16; rows * stride];
        for (r, row) in data.chunks_exact_mut(stride).enumerate() {
            for (c, slot) in row[..cols].iter_mut().enumerate() {
                *slot = code(r * cols + c);
            }
        }
        QuantizedActivations {
            params,
            rows,
            cols,
            stride,
            data,
        }
    }

    pub fn params(&self) -> &QuantParams {
        &self.params
    }
    /// Number of frames T.
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Features per frame.
    pub fn cols(&self) -> usize {
        self.cols
    }
    /// Row length in memory (cols rounded up to [`ACT_ALIGN`]).
    pub fn stride(&self) -> usize {
        self.stride
    }
    /// The padded codes, `rows × stride`.
    pub fn padded_codes(&self) -> &[i16] {
        &self.data
    }
    /// The codes without padding, row-major.
    pub fn codes(&self) -> Vec<i32> {
        self.data
            .chunks_exact(self.stride)
            .flat_map(|r| r[..self.cols].iter().map(|&q| q as i32))
            .collect()
    }
}
