//! The elementwise SRU recurrence in 16-bit fixed point (METHOD §4.1): every value the
//! recurrence stores (gates, cell state, output) is rounded to a 16-bit fixed-point grid.
//!
//! Formats: gates lie in (0, 1) and use Q1.14; the cell state is a convex combination of earlier
//! states and candidates, so it never exceeds max|u⁰| and shares the output's format, chosen from
//! the larger of the candidate and highway ranges; v and b use their own ranges.

use mohaq_quant::{max_magnitude, vectorized, FixedFormat, SimdLevel};

use super::expf::expf;

use crate::model::recurrence::RecurrenceDims;

/// Rounds to a 16-bit fixed-point grid with `scale` codes per unit, saturating.
///
/// Same values as `(x · scale).round().clamp(−32768, 32767) / scale` for finite `x` (up to the sign
/// of zero), but without the `roundf` library call, which the baseline x86-64 target cannot inline
/// and which was a quarter of the evaluation time: clamping first to the integer bounds commutes
/// with rounding, and within them [`round_code`] is exact.
#[inline]
pub fn fx(x: f32, scale: f32) -> f32 {
    round_code(x * scale) / scale
}

/// `round(v).clamp(−32768, 32767)` (ties away from zero) for finite `v`, in a form that
/// vectorizes: `v − trunc(v)` is exact in floating point, so comparing it with ½ decides the tie
/// direction exactly. A NaN gives −32768 (callers' values are finite).
#[inline(always)]
#[allow(clippy::manual_clamp)] // deliberate: `clamp` keeps NaN, which the unchecked cast forbids
pub fn round_code(v: f32) -> f32 {
    // `max`/`min` (not `clamp`) also map NaN into range, which makes the unchecked conversion
    // sound; a checked `as` conversion would not vectorize.
    let v = v.max(-32768.0).min(32767.0);
    // SAFETY: `v` is finite and within [−32768, 32767], so it fits an i32.
    let t = unsafe { v.to_int_unchecked::<i32>() } as f32;
    let frac = v - t;
    let up = if frac >= 0.5 { 1.0 } else { 0.0 };
    let down = if frac <= -0.5 { 1.0 } else { 0.0 };
    t + up - down
}

/// Scale (codes per unit) of the tightest 16-bit fixed-point format holding `range`.
pub fn scale_for(range: f32) -> f32 {
    FixedFormat::for_range(range.max(f32::MIN_POSITIVE)).scale()
}

/// Elementwise parameters of one layer, already on their fixed-point grids: `[4, 2, H]`.
pub fn quantize_elementwise(params: &[f32]) -> Vec<f32> {
    let s = scale_for(max_magnitude(params));
    params.iter().map(|&p| fx(p, s)).collect()
}

/// A 16-bit fixed-point grid: `scale` codes per unit and its reciprocal. Every scale of
/// [`scale_for`] is a power of two, so multiplying by `inv` is exactly dividing by `scale`, and
/// the multiply vectorizes where a division would not.
#[derive(Clone, Copy, Debug)]
struct Grid {
    scale: f32,
    inv: f32,
}

impl Grid {
    fn new(scale: f32) -> Self {
        debug_assert_eq!(
            scale.to_bits() & 0x007f_ffff,
            0,
            "scale must be a power of two"
        );
        Self {
            scale,
            inv: 1.0 / scale,
        }
    }

    /// Same value as [`fx`]`(x, self.scale)`.
    #[inline(always)]
    fn round(self, x: f32) -> f32 {
        round_code(x * self.scale) * self.inv
    }
}

/// Rounds every value of `v` to the tightest 16-bit fixed-point grid holding them all (how a
/// matrix product's output enters the fixed-point recurrence).
pub fn round_to_own_grid(v: &mut [f32]) {
    let level = SimdLevel::detect();
    let grid = Grid::new(scale_for(max_magnitude(v)));
    round_all(level, grid, v);
}

vectorized! {
    fn round_all(grid: Grid, v: &mut [f32]) {
        v.iter_mut().for_each(|x| *x = grid.round(*x));
    }
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
    recurrence_fixed_at(SimdLevel::detect(), dims, u, highway, params_fx, h);
}

vectorized! {
    /// [`recurrence_fixed`] on a chosen instruction set (every level gives the same bits).
    ///
    /// Each time step is one loop over the hidden units with no calls (the gates' `expf` is
    /// [`expf`], inlined), so it runs one SIMD register of units at a time.
    pub fn recurrence_fixed_at(
        dims: RecurrenceDims,
        u: &[f32],
        highway: Option<(&[f32], f32)>,
        params_fx: &[f32],
        h: &mut [f32],
    ) {
        let (t_max, hd, k) = (dims.time, dims.hidden, dims.blocks);
        let gate = Grid::new(scale_for(1.0));
        let hw_range = highway.map_or(0.0, |(x, a)| max_magnitude(x) * a);
        let state = Grid::new(scale_for(max_magnitude(u).max(hw_range)));
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
                let (u0, u1, u2) = (&ub[..hd], &ub[hd..2 * hd], &ub[2 * hd..3 * hd]);
                let out = &mut h[t * 2 * hd + d * hd..][..hd];
                let gates = Gates { vf, vr, bf, br, u1, u2 };
                match highway {
                    None => {
                        let u3 = &ub[3 * hd..4 * hd];
                        for j in 0..hd {
                            let (ef, er) = gates.exp_neg(j, c[j]);
                            let (cn, hj) = cell(gate, state, c[j], ef, er, u0[j], u3[j]);
                            c[j] = cn;
                            out[j] = hj;
                        }
                    }
                    Some((x, a)) => {
                        let xs = &x[t * 2 * hd + d * hd..][..hd];
                        for j in 0..hd {
                            let xp = state.round(a * xs[j]);
                            let (ef, er) = gates.exp_neg(j, c[j]);
                            let (cn, hj) = cell(gate, state, c[j], ef, er, u0[j], xp);
                            c[j] = cn;
                            out[j] = hj;
                        }
                    }
                }
            }
        }
    }
}

/// The gate inputs of one direction at one time step.
struct Gates<'a> {
    vf: &'a [f32],
    vr: &'a [f32],
    bf: &'a [f32],
    br: &'a [f32],
    u1: &'a [f32],
    u2: &'a [f32],
}

impl Gates<'_> {
    /// `exp(−pre-activation)` of the forget and reset gates of unit `j` with cell state `c`,
    /// the pre-activations summed in the order of the reference formula.
    #[inline(always)]
    fn exp_neg(&self, j: usize, c: f32) -> (f32, f32) {
        let f = -(self.u1[j] + self.vf[j] * c + self.bf[j]);
        let r = -(self.u2[j] + self.vr[j] * c + self.br[j]);
        (expf(f), expf(r))
    }
}

/// The state update of one hidden unit from `exp(−pre-activation)` of both gates: new cell state
/// and output, each on its grid.
#[inline(always)]
fn cell(gate: Grid, state: Grid, cp: f32, ef: f32, er: f32, u0: f32, xp: f32) -> (f32, f32) {
    let f = gate.round(1.0 / (1.0 + ef));
    let r = gate.round(1.0 / (1.0 + er));
    let cn = state.round(f * cp + (1.0 - f) * u0);
    (cn, state.round(r * cn + (1.0 - r) * xp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The definition `fx` must keep: round half away from zero, saturate, rescale.
    fn fx_reference(x: f32, scale: f32) -> f32 {
        (x * scale).round().clamp(-32768.0, 32767.0) / scale
    }

    /// The recurrence as first written: three passes per step with the C library's `expf`.
    fn recurrence_reference(
        dims: RecurrenceDims,
        u: &[f32],
        highway: Option<(&[f32], f32)>,
        params_fx: &[f32],
        h: &mut [f32],
    ) {
        let (t_max, hd, k) = (dims.time, dims.hidden, dims.blocks);
        let gate = Grid::new(scale_for(1.0));
        let hw_range = highway.map_or(0.0, |(x, a)| max_magnitude(x) * a);
        let state = Grid::new(scale_for(max_magnitude(u).max(hw_range)));
        let p = |i: usize, d: usize, j: usize| params_fx[(2 * i + d) * hd + j];
        for d in 0..2 {
            let mut c = vec![0f32; hd];
            for s in 0..t_max {
                let t = if d == 0 { s } else { t_max - 1 - s };
                let ub = &u[(t * 2 + d) * k * hd..][..k * hd];
                for j in 0..hd {
                    let ef = (-(ub[hd + j] + p(0, d, j) * c[j] + p(2, d, j))).exp();
                    let er = (-(ub[2 * hd + j] + p(1, d, j) * c[j] + p(3, d, j))).exp();
                    let xp = match highway {
                        None => ub[3 * hd + j],
                        Some((x, a)) => state.round(a * x[t * 2 * hd + d * hd + j]),
                    };
                    let (cn, hj) = cell(gate, state, c[j], ef, er, ub[j], xp);
                    c[j] = cn;
                    h[t * 2 * hd + d * hd + j] = hj;
                }
            }
        }
    }

    proptest! {
        /// Every instruction-set copy of the recurrence gives the bits of the reference with the
        /// C library's `expf`, with and without a highway input, gates saturating or not.
        #[test]
        fn every_simd_level_runs_the_reference_recurrence(
            seed in 0u64..1000,
            time in 1usize..12,
            hidden in 1usize..40,
            gain in prop::sample::select(vec![0.5f32, 4.0, 60.0]),
            with_highway in any::<bool>(),
        ) {
            let blocks = if with_highway { 3 } else { 4 };
            let dims = RecurrenceDims { batch: 1, time, hidden, blocks };
            let noise = |i: usize, salt: u64| {
                let h = (seed ^ salt).wrapping_add(i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                ((h >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * gain
            };
            let mut u: Vec<f32> = (0..time * 2 * blocks * hidden).map(|i| noise(i, 1)).collect();
            round_to_own_grid(&mut u);
            let params: Vec<f32> = (0..8 * hidden).map(|i| noise(i, 2) / gain).collect();
            let params = quantize_elementwise(&params);
            let x: Vec<f32> = (0..time * 2 * hidden).map(|i| noise(i, 3)).collect();
            let highway = with_highway.then_some((x.as_slice(), 0.7f32));
            let mut expected = vec![0f32; time * 2 * hidden];
            recurrence_reference(dims, &u, highway, &params, &mut expected);
            for level in SimdLevel::available() {
                let mut h = vec![0f32; time * 2 * hidden];
                recurrence_fixed_at(level, dims, &u, highway, &params, &mut h);
                let same = h.iter().zip(&expected).all(|(a, b)| a.to_bits() == b.to_bits());
                prop_assert!(same, "{:?}: {:?} vs {:?}", level, h, expected);
            }
        }

        #[test]
        fn fx_and_grids_match_the_rounding_definition(
            values in prop::collection::vec(-40f32..40.0, 1..300),
            frac_bits in 0u32..15,
        ) {
            let scale = (1u32 << frac_bits) as f32;
            // Exact ties (k + ½ codes) and saturating values too.
            let mut values = values;
            values.extend([2.5 / scale, -3.5 / scale, 0.5 / scale, 1e5, -1e5]);
            for &x in &values {
                prop_assert_eq!(fx(x, scale), fx_reference(x, scale));
                prop_assert_eq!(Grid::new(scale).round(x), fx_reference(x, scale));
            }
            let mut own = values.clone();
            round_to_own_grid(&mut own);
            let s = scale_for(values.iter().fold(0f32, |m, v| m.max(v.abs())));
            let expected: Vec<f32> = values.iter().map(|&x| fx_reference(x, s)).collect();
            prop_assert_eq!(own, expected);
        }
    }
}
