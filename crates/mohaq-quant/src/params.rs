//! Quantization parameters of one tensor and the scalar quantize / dequantize / fake-quant maps.

use crate::calibrate::{calibrate_alpha, Calibration};
use crate::error::check_finite;
use crate::fixed::FixedFormat;
use crate::{BitWidth, QuantError};

/// Everything needed to quantize one tensor: its width, its clipping threshold and its scale.
///
/// Codes are `q = clamp(round(x · scale), qmin, qmax)` and values are `q / scale` for every width,
/// so callers treat all widths alike. For 2/4/8 bits `scale = (2^(b−1) − 1) / alpha` (symmetric
/// uniform, METHOD §4.2). For 16 bits `scale = 2^frac_bits` of the fixed-point format chosen from
/// the range, and `alpha = 32767 / scale`, the largest representable magnitude.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QuantParams {
    pub bits: BitWidth,
    /// Clipping threshold: values beyond ±alpha saturate.
    pub alpha: f32,
    /// Codes per unit of value.
    pub scale: f32,
}

impl QuantParams {
    /// Parameters for a clipping threshold `alpha` (2/4/8 bits), or for a value range `alpha`
    /// (16 bits: the fixed-point split holding magnitudes below `alpha`).
    pub fn from_alpha(bits: BitWidth, alpha: f32) -> Result<Self, QuantError> {
        if !(alpha > 0.0 && alpha.is_finite()) {
            return Err(QuantError::InvalidParam {
                what: "alpha (must be positive and finite)",
                value: alpha,
            });
        }
        if bits.is_fixed_point() {
            let fmt = FixedFormat::for_range(alpha);
            let scale = fmt.scale();
            return Ok(QuantParams {
                bits,
                alpha: bits.qmax() as f32 / scale,
                scale,
            });
        }
        let scale = bits.qmax() as f32 / alpha;
        if !(scale.is_finite() && scale > 0.0) {
            return Err(QuantError::InvalidParam {
                what: "alpha (scale would overflow)",
                value: alpha,
            });
        }
        Ok(QuantParams { bits, alpha, scale })
    }

    /// Calibrates on `values`: for 2/4/8 bits α comes from `method`; for 16 bits the fixed-point
    /// split always comes from max|x| (fixed point has no clipping search), whatever `method` says.
    pub fn calibrate(
        values: &[f32],
        bits: BitWidth,
        method: Calibration,
    ) -> Result<Self, QuantError> {
        let method = if bits.is_fixed_point() {
            Calibration::Max
        } else {
            method
        };
        Self::from_alpha(bits, calibrate_alpha(values, bits, method)?)
    }

    /// MMSE calibration (METHOD §4.2) for 2/4/8 bits, range-based fixed point for 16.
    pub fn mmse(values: &[f32], bits: BitWidth) -> Result<Self, QuantError> {
        Self::calibrate(values, bits, Calibration::Mmse)
    }

    /// Fixed-point format if this is 16-bit.
    pub fn fixed_format(&self) -> Option<FixedFormat> {
        self.bits
            .is_fixed_point()
            .then(|| FixedFormat::for_range(self.alpha * 0.99999))
    }

    /// Integer code of one value: `clamp(round(x · scale), qmin, qmax)`, ties away from zero
    /// (NaN maps to 0; use the slice functions for checked input).
    ///
    /// Computed without the `roundf` library call so that loops over it vectorize: clamping to
    /// integer bounds commutes with rounding, and `v − trunc(v)` is exact in f32, so the tie test
    /// is exact and the codes equal `f32::round`'s (a property test holds the two together).
    #[inline]
    pub fn quantize_one(&self, x: f32) -> i32 {
        let v = x * self.scale;
        let clamped = if v.is_nan() {
            0.0
        } else {
            v.max(self.bits.qmin() as f32).min(self.bits.qmax() as f32)
        };
        let truncated = clamped as i32;
        let frac = clamped - truncated as f32;
        truncated + i32::from(frac >= 0.5) - i32::from(frac <= -0.5)
    }

    /// 1 / scale rounded once to f32. Dequantization multiplies by it (rather than dividing by
    /// the scale) so that the slice, tensor and kernel paths give bit-identical values: candle's
    /// scalar ops multiply by a reciprocal too.
    #[inline]
    pub fn inv_scale(&self) -> f32 {
        (1.0 / self.scale as f64) as f32
    }

    /// Value of one code: q · (1/scale).
    #[inline]
    pub fn dequantize_one(&self, q: i32) -> f32 {
        q as f32 * self.inv_scale()
    }

    /// Quantize then dequantize one value.
    #[inline]
    pub fn fake_quant_one(&self, x: f32) -> f32 {
        self.dequantize_one(self.quantize_one(x))
    }

    /// Codes of a slice; errors on empty or non-finite input.
    pub fn quantize(&self, values: &[f32]) -> Result<Vec<i32>, QuantError> {
        check_finite(values, "quantize input")?;
        Ok(values.iter().map(|&x| self.quantize_one(x)).collect())
    }

    /// Values of codes; errors if a code does not fit the width.
    pub fn dequantize(&self, codes: &[i32]) -> Result<Vec<f32>, QuantError> {
        self.check_codes(codes)?;
        Ok(codes.iter().map(|&q| self.dequantize_one(q)).collect())
    }

    /// Fake quantization (quantize, then dequantize) of a slice into a new vector.
    pub fn fake_quant(&self, values: &[f32]) -> Result<Vec<f32>, QuantError> {
        check_finite(values, "fake_quant input")?;
        Ok(values.iter().map(|&x| self.fake_quant_one(x)).collect())
    }

    /// Fake quantization in place.
    pub fn fake_quant_in_place(&self, values: &mut [f32]) -> Result<(), QuantError> {
        check_finite(values, "fake_quant input")?;
        values.iter_mut().for_each(|x| *x = self.fake_quant_one(*x));
        Ok(())
    }

    /// Errors with the first code outside [qmin, qmax].
    pub fn check_codes(&self, codes: &[i32]) -> Result<(), QuantError> {
        check_codes(codes, self.bits)
    }
}

pub(crate) fn check_codes(codes: &[i32], bits: BitWidth) -> Result<(), QuantError> {
    match codes
        .iter()
        .position(|&q| q < bits.qmin() || q > bits.qmax())
    {
        Some(index) => Err(QuantError::CodeOutOfRange {
            index,
            value: codes[index],
            bits: bits.bits(),
        }),
        None => Ok(()),
    }
}

/// Convenience: MMSE-calibrate (fixed point for 16 bits) and fake-quantize `values` in one call.
pub fn fake_quant_slice(values: &[f32], bits: BitWidth) -> Result<Vec<f32>, QuantError> {
    QuantParams::mmse(values, bits)?.fake_quant(values)
}
