//! Choosing the clipping threshold α of a tensor: minimum MSE (METHOD §4.2), max, or percentile.

use crate::error::check_finite;
use crate::{BitWidth, QuantError};

/// Number of histogram bins of the MMSE search (METHOD §4.2). Odd, so that zero is a bin centre.
pub const MMSE_BINS: usize = 201;

/// How to pick α for a tensor.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Calibration {
    /// Minimum mean-squared error over the METHOD §4.2 candidates (the paper's choice).
    Mmse,
    /// α = max|x|: no clipping, coarse steps.
    Max,
    /// α = the given percentile (0 < p ≤ 100) of |x|.
    Percentile(f32),
    /// α = factor × max|x| (the paper's FC input uses 0.8).
    MaxFraction(f32),
}

/// α used when a tensor is entirely zero: any α reproduces zeros exactly, and 1.0 keeps the scale
/// finite (a zero α would divide by zero).
pub const ALPHA_FOR_ZERO_TENSOR: f32 = 1.0;

/// Largest magnitude of a slice, unchecked: NaNs are skipped and an empty slice gives 0. Eight
/// independent running maxima, so that it vectorizes; the maximum does not depend on the order.
/// For hot loops whose input is checked elsewhere; [`max_abs`] is the checked form.
pub fn max_magnitude(values: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let chunks = values.chunks_exact(8);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (m, x) in lanes.iter_mut().zip(chunk) {
            let a = x.abs();
            *m = if a > *m { a } else { *m };
        }
    }
    let m = tail.iter().fold(0f32, |m, x| m.max(x.abs()));
    lanes.iter().fold(m, |m, &l| m.max(l))
}

/// max|x|; errors on empty or non-finite input.
pub fn max_abs(values: &[f32]) -> Result<f32, QuantError> {
    check_finite(values, "max_abs input")?;
    Ok(max_magnitude(values))
}

/// α = max|x| (or [`ALPHA_FOR_ZERO_TENSOR`] for an all-zero tensor).
pub fn max_alpha(values: &[f32]) -> Result<f32, QuantError> {
    Ok(nonzero(max_abs(values)?))
}

fn nonzero(alpha: f32) -> f32 {
    if alpha > 0.0 {
        alpha
    } else {
        ALPHA_FOR_ZERO_TENSOR
    }
}

/// α = the `percentile`-th percentile of |x| (nearest rank), 0 < percentile ≤ 100.
pub fn percentile_alpha(values: &[f32], percentile: f32) -> Result<f32, QuantError> {
    check_finite(values, "percentile_alpha input")?;
    if !(percentile > 0.0 && percentile <= 100.0) {
        return Err(QuantError::InvalidParam {
            what: "percentile (must be in (0, 100])",
            value: percentile,
        });
    }
    let mut mags: Vec<f32> = values.iter().map(|v| v.abs()).collect();
    let rank = ((percentile as f64 / 100.0) * mags.len() as f64).ceil() as usize;
    let k = rank.clamp(1, mags.len()) - 1;
    let (_, kth, _) = mags.select_nth_unstable_by(k, f32::total_cmp);
    Ok(nonzero(*kth))
}

/// Squared error of quantizing a value `c` with clipping threshold `alpha` at `bits`, as
/// METHOD §4.2 defines it: clipping error (|c| − α)² outside ±α, rounding error inside.
fn mmse_point_error(c: f64, alpha: f64, scale: f64, qmin: f64, qmax: f64) -> f64 {
    if c.abs() > alpha {
        let d = c.abs() - alpha;
        d * d
    } else {
        let q = round_half_away(c * scale).clamp(qmin, qmax);
        let d = c - q / scale;
        d * d
    }
}

/// `f64::round` (ties away from zero) for |v| < 2⁶³ without the library call, which kept the
/// 99 × 201 error sums of [`mmse_alpha`] from vectorizing; `v − trunc(v)` is exact, so the result
/// is `v.round()` exactly. Here |v| ≤ qmax + ½ because |c| ≤ α.
#[inline(always)]
fn round_half_away(v: f64) -> f64 {
    let truncated = v as i64 as f64;
    let frac = v - truncated;
    let up = if frac >= 0.5 { 1.0 } else { 0.0 };
    let down = if frac <= -0.5 { 1.0 } else { 0.0 };
    truncated + up - down
}

/// Minimum-MSE clipping threshold, exactly as METHOD §4.2: histogram the values into 201 bins over
/// [−max|x|, max|x|]; for α ∈ {0.01, …, 0.99} × max|x| sum clipping plus rounding error over bin
/// centres weighted by bin probability; return the α with the smallest error (the smaller α on a tie).
///
/// Works for any width (for 16 bits it is well defined but the crate uses fixed point instead; see
/// [`crate::QuantParams::calibrate`]). An all-zero tensor gives [`ALPHA_FOR_ZERO_TENSOR`].
pub fn mmse_alpha(values: &[f32], bits: BitWidth) -> Result<f32, QuantError> {
    check_finite(values, "mmse_alpha input")?;
    let max = max_magnitude(values) as f64;
    if max == 0.0 {
        return Ok(ALPHA_FOR_ZERO_TENSOR);
    }
    let width = 2.0 * max / MMSE_BINS as f64;
    let mut counts = [0u64; MMSE_BINS];
    for &v in values {
        // v ≥ −max, so the quotient is never negative and truncation is its floor (the
        // saturating cast would map a rounding-negative quotient to bin 0 as well).
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
            .map(|&(c, p)| p * mmse_point_error(c, alpha, scale, qmin, qmax))
            .sum();
        if err < best.0 {
            best = (err, alpha);
        }
    }
    Ok(best.1 as f32)
}

/// α of `values` by the chosen method.
pub fn calibrate_alpha(
    values: &[f32],
    bits: BitWidth,
    method: Calibration,
) -> Result<f32, QuantError> {
    match method {
        Calibration::Mmse => mmse_alpha(values, bits),
        Calibration::Max => max_alpha(values),
        Calibration::Percentile(p) => percentile_alpha(values, p),
        Calibration::MaxFraction(f) => {
            if !(f > 0.0 && f.is_finite()) {
                return Err(QuantError::InvalidParam {
                    what: "max fraction (must be positive)",
                    value: f,
                });
            }
            Ok(nonzero(max_abs(values)? * f))
        }
    }
}
