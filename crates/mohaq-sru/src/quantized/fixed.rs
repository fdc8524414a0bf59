//! The elementwise SRU recurrence in 16-bit fixed point (METHOD §4.1): every value the
//! recurrence stores (gates, cell state, output) is rounded to a 16-bit fixed-point grid.
//!
//! Formats: gates lie in (0, 1) and use Q1.14; the cell state is a convex combination of earlier
//! states and candidates, so it never exceeds max|u⁰| and shares the output's format, chosen from
//! the larger of the candidate and highway ranges; v and b use their own ranges.

use mohaq_quant::FixedFormat;

use crate::model::recurrence::RecurrenceDims;

/// Rounds to a 16-bit fixed-point grid with `scale` codes per unit, saturating.
#[inline]
pub fn fx(x: f32, scale: f32) -> f32 {
    (x * scale).round().clamp(-32768.0, 32767.0) / scale
}

/// Scale (codes per unit) of the tightest 16-bit fixed-point format holding `range`.
pub fn scale_for(range: f32) -> f32 {
    FixedFormat::for_range(range.max(f32::MIN_POSITIVE)).scale()
}

/// Largest magnitude of a slice.
pub fn max_abs(v: &[f32]) -> f32 {
    v.iter().fold(0f32, |m, x| m.max(x.abs()))
}

/// Elementwise parameters of one layer, already on their fixed-point grids: `[4, 2, H]`.
pub fn quantize_elementwise(params: &[f32]) -> Vec<f32> {
    let s = scale_for(max_abs(params));
    params.iter().map(|&p| fx(p, s)).collect()
}

/// One sequence (batch 1) of the recurrence in fixed point. `u` is `[T, 2, k, H]` (already on its
/// grid), `highway` is α·x `[T, 2H]` for layers 2..n or `None` (fourth block of `u`). Writes `h`
/// `[T, 2H]`.
pub fn recurrence_fixed(
    dims: RecurrenceDims,
    u: &[f32],
    highway: Option<(&[f32], f32)>,
    params_fx: &[f32],
    h: &mut [f32],
) {
    let (t_max, hd, k) = (dims.time, dims.hidden, dims.blocks);
    let gate_scale = scale_for(1.0);
    let hw_range = highway.map_or(0.0, |(x, a)| max_abs(x) * a);
    let state_scale = scale_for(max_abs(u).max(hw_range));
    let mut c = vec![0f32; hd];
    for d in 0..2 {
        let vf = &params_fx[d * hd..(d + 1) * hd];
        let vr = &params_fx[(2 + d) * hd..(3 + d) * hd];
        let bf = &params_fx[(4 + d) * hd..(5 + d) * hd];
        let br = &params_fx[(6 + d) * hd..(7 + d) * hd];
        c.fill(0.0);
        for s in 0..t_max {
            let t = if d == 0 { s } else { t_max - 1 - s };
            let ub = &u[(t * 2 + d) * k * hd..][..k * hd];
            for j in 0..hd {
                let cp = c[j];
                let f = fx(sigmoid(ub[hd + j] + vf[j] * cp + bf[j]), gate_scale);
                let r = fx(sigmoid(ub[2 * hd + j] + vr[j] * cp + br[j]), gate_scale);
                let cn = fx(f * cp + (1.0 - f) * ub[j], state_scale);
                let xp = match highway {
                    None => ub[3 * hd + j],
                    Some((x, a)) => fx(a * x[t * 2 * hd + d * hd + j], state_scale),
                };
                h[t * 2 * hd + d * hd + j] = fx(r * cn + (1.0 - r) * xp, state_scale);
                c[j] = cn;
            }
        }
    }
}

#[inline]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}
