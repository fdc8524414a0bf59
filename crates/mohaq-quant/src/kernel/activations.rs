//! Quantized activations in the layout the kernels read: i16 codes, rows padded with zeros to a
//! multiple of [`ACT_ALIGN`] so the SIMD loop needs no tail handling.

use crate::error::check_finite;
use crate::pack::check_shape;
use crate::params::check_codes;
use crate::{vectorized, QuantError, QuantParams, SimdLevel};

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
    /// Quantizes row-major f32 frames (`rows × cols`) with `params`. One pass over the values
    /// both checks them and writes the padded codes (it runs on every layer input of every
    /// candidate evaluation).
    pub fn quantize(
        values: &[f32],
        rows: usize,
        cols: usize,
        params: QuantParams,
    ) -> Result<Self, QuantError> {
        check_shape(values.len(), rows, cols, "activations")?;
        if values.is_empty() {
            return Err(QuantError::Empty {
                what: "activations",
            });
        }
        let stride = cols.next_multiple_of(ACT_ALIGN);
        let mut data = vec![0i16; rows * stride];
        if quantize_rows(SimdLevel::detect(), values, cols, stride, params, &mut data) {
            // Names the first bad value.
            check_finite(values, "activations")?;
        }
        Ok(QuantizedActivations {
            params,
            rows,
            cols,
            stride,
            data,
        })
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

vectorized! {
    /// Writes the codes of `values` (`cols` per row) into rows of `stride` codes and tells whether
    /// any value was NaN or ±inf (their codes are then meaningless and the caller errors).
    fn quantize_rows(
        values: &[f32],
        cols: usize,
        stride: usize,
        params: QuantParams,
        data: &mut [i16],
    ) -> bool {
        const EXPONENT: u32 = 0x7f80_0000;
        // `QuantParams::quantize_one` with the bounds hoisted out of the loop (looking them up
        // per value kept it from vectorizing); the property test below holds the two together.
        let (scale, qmin, qmax) = (params.scale, params.bits.qmin() as f32, params.bits.qmax() as f32);
        let mut bad = 0u32;
        for (src, dst) in values.chunks_exact(cols).zip(data.chunks_exact_mut(stride)) {
            for (slot, &x) in dst[..cols].iter_mut().zip(src) {
                let v = x * scale;
                let clamped = if v.is_nan() { 0.0 } else { v.max(qmin).min(qmax) };
                // SAFETY: `clamped` is finite and within the width's code range, so it fits an
                // i32. The checked `as` conversion (saturating, NaN to 0) compiled to one scalar
                // conversion per value, which was most of this loop's time.
                let truncated = unsafe { clamped.to_int_unchecked::<i32>() };
                let frac = clamped - truncated as f32;
                let q = truncated + i32::from(frac >= 0.5) - i32::from(frac <= -0.5);
                *slot = q as i16;
                bad |= u32::from(x.to_bits() & EXPONENT == EXPONENT);
            }
        }
        bad != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BitWidth;
    use proptest::prelude::*;

    proptest! {
        /// Every instruction-set copy writes the codes of `quantize_one`, padding zero.
        #[test]
        fn every_simd_level_quantizes_alike(
            values in prop::collection::vec(-3f32..3.0, 1..400),
            spike in -1e6f32..1e6,
            cols in 1usize..40,
            bits in prop::sample::select(BitWidth::ALL.to_vec()),
        ) {
            let mut values = values;
            values[0] = spike;
            let rows = values.len() / cols;
            prop_assume!(rows > 0);
            let values = &values[..rows * cols];
            let params = QuantParams::from_alpha(bits, 1.7).unwrap();
            let stride = cols.next_multiple_of(ACT_ALIGN);
            let mut expected = vec![0i16; rows * stride];
            for r in 0..rows {
                for c in 0..cols {
                    expected[r * stride + c] = params.quantize_one(values[r * cols + c]) as i16;
                }
            }
            for level in SimdLevel::available() {
                let mut data = vec![0i16; rows * stride];
                prop_assert!(!quantize_rows(level, values, cols, stride, params, &mut data));
                prop_assert_eq!(&data, &expected);
            }
        }
    }

    #[test]
    fn a_non_finite_activation_is_named() {
        let p = QuantParams::from_alpha(BitWidth::B8, 1.0).unwrap();
        let err = QuantizedActivations::quantize(&[0.0, 1.0, f32::NAN, 2.0], 2, 2, p).unwrap_err();
        assert!(
            matches!(err, QuantError::NonFinite { index: 2, .. }),
            "{err}"
        );
        for level in SimdLevel::available() {
            let mut data = vec![0i16; 2 * ACT_ALIGN];
            assert!(quantize_rows(
                level,
                &[0.0, f32::INFINITY],
                1,
                ACT_ALIGN,
                p,
                &mut data
            ));
        }
    }
}
