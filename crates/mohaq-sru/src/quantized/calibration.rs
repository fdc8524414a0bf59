//! Per-utterance activation thresholds (METHOD §4.3) as the evaluator needs them, fast.
//!
//! The search calibrates every quantized layer input of every utterance for every candidate, so
//! the MMSE threshold search dominated an evaluation. [`mmse_alpha`] returns exactly
//! `mohaq_quant::mmse_alpha` (a property test holds the two together) with the same arithmetic
//! in the same order, minus the parts that cost: the finiteness pass (the activation quantizer
//! checks that anyway), the `floor` and `round` library calls (replaced by exact truncations),
//! and a scalar maximum.

use mohaq_quant::{
    BitWidth, Calibration, QuantError, QuantParams, QuantizedActivations, ALPHA_FOR_ZERO_TENSOR,
    MMSE_BINS,
};

use super::fixed::max_abs;

/// Quantization parameters of a matrix layer's input `x` for the search: fixed point from the
/// range at 16 bits, 0.8 × max for the FC input, MMSE otherwise.
pub fn activation_params(
    x: &[f32],
    bits: BitWidth,
    is_fc: bool,
) -> Result<QuantParams, QuantError> {
    if bits == BitWidth::B16 || is_fc || x.is_empty() {
        let method = if is_fc {
            Calibration::MaxFraction(0.8)
        } else {
            Calibration::Max
        };
        return QuantParams::calibrate(x, bits, method);
    }
    QuantParams::from_alpha(bits, mmse_alpha(x, bits))
}

/// The activation codes of `x` (`rows × cols`): the same codes as
/// `QuantizedActivations::quantize`, computed in a pass that vectorizes (no `roundf` call per
/// value); non-finite input is refused the same way.
pub fn quantize_activations(
    x: &[f32],
    rows: usize,
    cols: usize,
    params: QuantParams,
) -> Result<QuantizedActivations, QuantError> {
    // x · 0 is NaN exactly for infinite or NaN x, so one sum detects any non-finite value.
    let poison: f32 = x.iter().map(|v| v * 0.0).sum();
    if !poison.is_finite() || x.is_empty() {
        return QuantizedActivations::quantize(x, rows, cols, params);
    }
    let (qmin, qmax) = (params.bits.qmin() as f32, params.bits.qmax() as f32);
    let codes: Vec<i32> = x
        .iter()
        .map(|&v| round_code(v * params.scale, qmin, qmax))
        .collect();
    QuantizedActivations::from_codes(&codes, rows, cols, params)
}

/// `round(v).clamp(qmin, qmax)` (ties away from zero) for finite `v`: clamping to integer bounds
/// commutes with rounding, and `v − trunc(v)` is exact, so the tie test is exact.
#[inline(always)]
fn round_code(v: f32, qmin: f32, qmax: f32) -> i32 {
    let v = v.max(qmin).min(qmax);
    // SAFETY: `v` lies in [qmin, qmax] ⊂ [−32768, 32767] (max/min also map NaN into range).
    let t = unsafe { v.to_int_unchecked::<i32>() };
    let frac = v - t as f32;
    t + i32::from(frac >= 0.5) - i32::from(frac <= -0.5)
}

/// The METHOD §4.2 minimum-MSE clipping threshold of non-empty `values`; bit-identical to
/// `mohaq_quant::mmse_alpha` for finite input (see the module doc).
pub fn mmse_alpha(values: &[f32], bits: BitWidth) -> f32 {
    let max = max_abs(values) as f64;
    if max == 0.0 {
        return ALPHA_FOR_ZERO_TENSOR;
    }
    let width = 2.0 * max / MMSE_BINS as f64;
    let mut counts = [0u64; MMSE_BINS];
    for &v in values {
        // The quotient is never negative (v ≥ −max), so truncation is the reference's floor; a
        // saturating cast also maps what the reference clamps to 0.
        let idx = ((v as f64 + max) / width) as usize;
        counts[idx.min(MMSE_BINS - 1)] += 1;
    }
    let n = values.len() as f64;
    let bins: Vec<(f64, f64)> = counts
        .iter()
        .enumerate()
        .filter(|(_, &c)| c > 0)
        .map(|(i, &c)| (-max + (i as f64 + 0.5) * width, c as f64 / n))
        .collect();
    let (qmin, qmax) = (bits.qmin() as f64, bits.qmax() as f64);
    let mut best = (f64::INFINITY, max);
    for k in 1..=99u32 {
        let alpha = k as f64 / 100.0 * max;
        let scale = qmax / alpha;
        let err: f64 = bins
            .iter()
            .map(|&(c, p)| p * point_error(c, alpha, scale, qmin, qmax))
            .sum();
        if err < best.0 {
            best = (err, alpha);
        }
    }
    best.1 as f32
}

/// Squared quantization error of the bin centre `c` (clipping outside ±α, rounding inside).
#[inline(always)]
fn point_error(c: f64, alpha: f64, scale: f64, qmin: f64, qmax: f64) -> f64 {
    if c.abs() > alpha {
        let d = c.abs() - alpha;
        d * d
    } else {
        let q = round_half_away(c * scale).clamp(qmin, qmax);
        let d = c - q / scale;
        d * d
    }
}

/// `f64::round` for |v| < 2⁶³ without a library call (`v − trunc(v)` is exact); here
/// |v| ≤ qmax + ½ because |c| ≤ α.
#[inline(always)]
fn round_half_away(v: f64) -> f64 {
    let t = v as i64 as f64;
    let frac = v - t;
    let up = if frac >= 0.5 { 1.0 } else { 0.0 };
    let down = if frac <= -0.5 { 1.0 } else { 0.0 };
    t + up - down
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn width() -> impl Strategy<Value = BitWidth> {
        prop_oneof![Just(BitWidth::B2), Just(BitWidth::B4), Just(BitWidth::B8)]
    }

    proptest! {
        #[test]
        fn mmse_alpha_matches_the_reference_bit_for_bit(
            values in prop::collection::vec(-50f32..50.0, 1..400),
            skew in 0.05f32..3.0,
            bits in width(),
        ) {
            // Heavy-tailed too (|v|^skew keeps the sign), as activations are.
            let values: Vec<f32> = values.iter().map(|v| v.signum() * v.abs().powf(skew)).collect();
            let reference = mohaq_quant::mmse_alpha(&values, bits).unwrap();
            prop_assert_eq!(mmse_alpha(&values, bits).to_bits(), reference.to_bits());
        }

        #[test]
        fn activation_params_match_the_reference(
            values in prop::collection::vec(-4f32..4.0, 1..200),
            bits in prop_oneof![width(), Just(BitWidth::B16)],
            is_fc in any::<bool>(),
        ) {
            let method = if bits == BitWidth::B16 {
                Calibration::Max
            } else if is_fc {
                Calibration::MaxFraction(0.8)
            } else {
                Calibration::Mmse
            };
            let reference = QuantParams::calibrate(&values, bits, method).unwrap();
            prop_assert_eq!(activation_params(&values, bits, is_fc).unwrap(), reference);
        }
    }

    proptest! {
        #[test]
        fn activation_codes_match_the_reference(
            values in prop::collection::vec(-6f32..6.0, 1..120),
            alpha in 0.01f32..8.0,
            bits in prop_oneof![width(), Just(BitWidth::B16)],
        ) {
            // Include exact ties (k + ½ codes) and values far outside the clipping range.
            let params = QuantParams::from_alpha(bits, alpha).unwrap();
            let mut values = values;
            values.push((3.5 / params.scale).min(alpha));
            values.push(-2.5 / params.scale);
            values.push(1e6);
            let cols = values.len();
            let reference = QuantizedActivations::quantize(&values, 1, cols, params).unwrap();
            prop_assert_eq!(quantize_activations(&values, 1, cols, params).unwrap(), reference);
        }
    }

    #[test]
    fn non_finite_activations_are_refused() {
        let p = QuantParams::from_alpha(BitWidth::B8, 1.0).unwrap();
        assert!(quantize_activations(&[0.5, f32::NAN], 1, 2, p).is_err());
        assert!(quantize_activations(&[f32::INFINITY, 0.5], 1, 2, p).is_err());
    }

    #[test]
    fn all_zero_and_empty_inputs_behave_as_the_reference() {
        assert_eq!(mmse_alpha(&[0.0; 5], BitWidth::B4), ALPHA_FOR_ZERO_TENSOR);
        assert!(activation_params(&[], BitWidth::B4, false).is_err());
    }
}
