//! Choosing the clipping threshold α of a tensor: minimum MSE (METHOD §4.2), max, or percentile.

use crate::error::check_finite;
use crate::{vectorized, BitWidth, QuantError, SimdLevel};

/// Number of histogram bins of the MMSE search (METHOD §4.2). Odd, so that zero is a bin centre.
pub const MMSE_BINS: usize = 201;
// The histogram keeps bin indices in bytes.
const _: () = assert!(MMSE_BINS <= 256);

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

/// Largest magnitude of a slice, unchecked: NaNs are skipped and an empty slice gives 0.
/// For hot loops whose input is checked elsewhere; [`max_abs`] is the checked form.
pub fn max_magnitude(values: &[f32]) -> f32 {
    magnitude_scan(SimdLevel::detect(), values).0
}

/// Lanes of the running maximum: one AVX-512 register, two AVX2 ones.
const MAX_LANES: usize = 16;

vectorized! {
    /// max|x| (NaNs skipped) and whether any value is NaN or ±inf, in one pass over the values:
    /// the search calibrates every layer input of every utterance of every candidate. Sixteen
    /// independent running maxima, so that it vectorizes; the maximum does not depend on the
    /// order, so every level gives the same value.
    fn magnitude_scan(values: &[f32]) -> (f32, bool) {
        const EXPONENT: u32 = 0x7f80_0000;
        let mut lanes = [0f32; MAX_LANES];
        let mut non_finite = [0u32; MAX_LANES];
        let chunks = values.chunks_exact(MAX_LANES);
        let tail = chunks.remainder();
        for chunk in chunks {
            for ((m, bad), x) in lanes.iter_mut().zip(&mut non_finite).zip(chunk) {
                let a = x.abs();
                *m = if a > *m { a } else { *m };
                *bad |= u32::from(x.to_bits() & EXPONENT == EXPONENT);
            }
        }
        let mut m = 0f32;
        let mut bad = 0u32;
        for x in tail {
            m = m.max(x.abs());
            bad |= u32::from(x.to_bits() & EXPONENT == EXPONENT);
        }
        let m = lanes.iter().fold(m, |m, &l| m.max(l));
        (m, non_finite.iter().fold(bad, |a, &b| a | b) != 0)
    }
}

/// max|x|; errors on empty or non-finite input. One pass over the values.
pub fn max_abs(values: &[f32]) -> Result<f32, QuantError> {
    if values.is_empty() {
        return Err(QuantError::Empty {
            what: "max_abs input",
        });
    }
    let (max, non_finite) = magnitude_scan(SimdLevel::detect(), values);
    if non_finite {
        // Names the first bad value.
        check_finite(values, "max_abs input")?;
    }
    Ok(max)
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
/// METHOD §4.2 defines it: clipping error (|c| − α)² outside ±α, rounding error inside. Both
/// branches are computed and one is selected, so that a loop over thresholds vectorizes.
#[inline(always)]
fn mmse_point_error(c: f64, alpha: f64, scale: f64, qmin: f64, qmax: f64) -> f64 {
    let clip = c.abs() - alpha;
    let q = round_half_away(c * scale).clamp(qmin, qmax);
    let round = c - q / scale;
    if c.abs() > alpha {
        clip * clip
    } else {
        round * round
    }
}

/// `f64::round` (ties away from zero) without the library call, which kept the error sums of
/// [`mmse_alpha`] from vectorizing: `v − trunc(v)` is exact, so the result is `v.round()`
/// exactly (up to the sign of a zero result, which squaring the error removes).
#[inline(always)]
fn round_half_away(v: f64) -> f64 {
    let truncated = v.trunc();
    let frac = v - truncated;
    let up = if frac >= 0.5 { 1.0 } else { 0.0 };
    let down = if frac <= -0.5 { 1.0 } else { 0.0 };
    truncated + up - down
}

/// Number of MMSE threshold candidates: α ∈ {0.01, …, 0.99} × max|x|.
const MMSE_CANDIDATES: usize = 99;

/// Minimum-MSE clipping threshold, exactly as METHOD §4.2: histogram the values into 201 bins over
/// [−max|x|, max|x|]; for α ∈ {0.01, …, 0.99} × max|x| sum clipping plus rounding error over bin
/// centres weighted by bin probability; return the α with the smallest error (the smaller α on a tie).
///
/// Works for any width (for 16 bits it is well defined but the crate uses fixed point instead; see
/// [`crate::QuantParams::calibrate`]). An all-zero tensor gives [`ALPHA_FOR_ZERO_TENSOR`].
pub fn mmse_alpha(values: &[f32], bits: BitWidth) -> Result<f32, QuantError> {
    mmse_alpha_at(SimdLevel::detect(), values, bits)
}

/// [`mmse_alpha`] on a chosen instruction set (every level gives the same bits).
fn mmse_alpha_at(level: SimdLevel, values: &[f32], bits: BitWidth) -> Result<f32, QuantError> {
    if values.is_empty() {
        return Err(QuantError::Empty {
            what: "mmse_alpha input",
        });
    }
    let (max, non_finite) = magnitude_scan(level, values);
    if non_finite {
        check_finite(values, "mmse_alpha input")?;
    }
    let max = max as f64;
    if max == 0.0 {
        return Ok(ALPHA_FOR_ZERO_TENSOR);
    }
    let width = 2.0 * max / MMSE_BINS as f64;
    let mut counts = [0u64; MMSE_BINS];
    histogram(level, values, max, width, &mut counts);
    let n = values.len() as f64;
    let bins: Vec<(f64, f64)> = counts
        .iter()
        .enumerate()
        .filter(|(_, &c)| c > 0)
        .map(|(i, &c)| (-max + (i as f64 + 0.5) * width, c as f64 / n))
        .collect();
    let mut alphas = [0f64; MMSE_CANDIDATES];
    let mut scales = [0f64; MMSE_CANDIDATES];
    for (k, (a, s)) in alphas.iter_mut().zip(&mut scales).enumerate() {
        *a = (k + 1) as f64 / 100.0 * max;
        *s = bits.qmax() as f64 / *a;
    }
    let mut errors = [0f64; MMSE_CANDIDATES];
    candidate_errors(level, &bins, &alphas, &scales, bits, &mut errors);
    let mut best = (f64::INFINITY, max);
    for (&err, &alpha) in errors.iter().zip(&alphas) {
        if err < best.0 {
            best = (err, alpha);
        }
    }
    Ok(best.1 as f32)
}

vectorized! {
    /// Adds each value to its bin of the MMSE histogram over [−max, max]. Bin indices are computed
    /// a block at a time (that part vectorizes), then counted.
    fn histogram(values: &[f32], max: f64, width: f64, counts: &mut [u64; MMSE_BINS]) {
        const BLOCK: usize = 64;
        const LAST_BIN: f64 = (MMSE_BINS - 1) as f64;
        // Four interleaved sub-histograms, so that runs of equal bins do not wait on each
        // other's increments; integer sums, so the total is exact. A bin index fits a byte and a
        // sub-histogram has 256 slots, so indexing needs no bounds check.
        let mut sub = [[0u32; 256]; 4];
        let mut idx = [0u8; BLOCK];
        let mut pending = 0usize;
        for chunk in values.chunks(BLOCK) {
            for (slot, &v) in idx.iter_mut().zip(chunk) {
                // v ≥ −max, so the quotient is never negative and truncation is its floor; it is
                // at most a little over MMSE_BINS. Clamping it to the last bin before truncating
                // gives the same index as clamping after (the quotient is non-negative).
                #[allow(clippy::manual_clamp)] // `clamp` keeps NaN, which the unchecked cast forbids
                let q = ((v as f64 + max) / width).max(0.0).min(LAST_BIN);
                // SAFETY: `q` is within [0, MMSE_BINS − 1] (`max`/`min` also map a NaN into
                // range), so it fits an i32. The checked `as` conversion compiled to one scalar
                // conversion per value, which kept the loop from vectorizing.
                *slot = unsafe { q.to_int_unchecked::<i32>() } as u8;
            }
            let idx = &idx[..chunk.len()];
            let quads = idx.chunks_exact(4);
            for &i in quads.remainder() {
                sub[0][usize::from(i)] += 1;
            }
            for quad in quads {
                for (s, &i) in sub.iter_mut().zip(quad) {
                    s[usize::from(i)] += 1;
                }
            }
            pending += chunk.len();
            if pending >= 1 << 31 {
                // No u32 bin can have overflowed yet.
                flush(&mut sub, counts);
                pending = 0;
            }
        }
        flush(&mut sub, counts);
    }
}

/// Adds the sub-histograms into `counts` and clears them.
#[inline(always)]
fn flush(sub: &mut [[u32; 256]; 4], counts: &mut [u64; MMSE_BINS]) {
    for s in sub.iter_mut() {
        for (c, v) in counts.iter_mut().zip(s.iter_mut()) {
            *c += u64::from(*v);
            *v = 0;
        }
    }
}

vectorized! {
    /// The weighted error sum of every threshold candidate. Each candidate's sum runs over the
    /// bins in order, as the definition's, so the sums are exact to the bit; the loop runs across
    /// candidates, which vectorizes.
    fn candidate_errors(
        bins: &[(f64, f64)],
        alphas: &[f64; MMSE_CANDIDATES],
        scales: &[f64; MMSE_CANDIDATES],
        bits: BitWidth,
        errors: &mut [f64; MMSE_CANDIDATES],
    ) {
        let (qmin, qmax) = (bits.qmin() as f64, bits.qmax() as f64);
        for &(c, p) in bins {
            for ((e, &alpha), &scale) in errors.iter_mut().zip(alphas).zip(scales) {
                *e += p * mmse_point_error(c, alpha, scale, qmin, qmax);
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bits() -> impl Strategy<Value = BitWidth> {
        prop::sample::select(BitWidth::ALL.to_vec())
    }

    proptest! {
        /// Every instruction-set copy of the calibration loops gives the same bits.
        #[test]
        fn every_simd_level_calibrates_alike(
            values in prop::collection::vec(-50f32..50.0, 1..700),
            spike in -1e4f32..1e4,
            bits in bits(),
        ) {
            let mut values = values;
            values.push(spike);
            let portable = SimdLevel::Portable;
            for level in SimdLevel::available() {
                let (m, bad) = magnitude_scan(level, &values);
                prop_assert_eq!(m.to_bits(), magnitude_scan(portable, &values).0.to_bits());
                prop_assert!(!bad);
                prop_assert_eq!(
                    mmse_alpha_at(level, &values, bits).unwrap().to_bits(),
                    mmse_alpha_at(portable, &values, bits).unwrap().to_bits()
                );
            }
        }
    }

    #[test]
    fn the_scan_flags_non_finite_values_at_every_level() {
        for level in SimdLevel::available() {
            for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                for at in [0, 5, 16, 40] {
                    let mut v = vec![0.5f32; 41];
                    v[at] = bad;
                    assert!(magnitude_scan(level, &v).1, "{level:?} {bad} at {at}");
                }
            }
            assert_eq!(magnitude_scan(level, &[]), (0.0, false));
        }
    }
}
