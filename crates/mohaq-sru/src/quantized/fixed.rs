//! The elementwise SRU recurrence in 16-bit fixed point (METHOD §4.1): every value the
//! recurrence stores (gates, cell state, output) is rounded to a 16-bit fixed-point grid.
//!
//! Formats: gates lie in (0, 1) and use Q1.14; the cell state is a convex combination of earlier
//! states and candidates, so it never exceeds max|u⁰| and shares the output's format, chosen from
//! the larger of the candidate and highway ranges; v and b use their own ranges.

use mohaq_quant::{max_magnitude, vectorized, FixedFormat, SimdLevel};

use crate::elementwise::expf::expf;
use crate::elementwise::lanes::{load_block, store_block, LANES};

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
/// vectorizes: `v − trunc(v)` is exact in floating point, and as it lies in (−1, 1), twice it
/// truncates to ±1 exactly when it is at least ½ in size (a tie goes away from zero) and to 0
/// otherwise, so the rounding is two truncations and integer adds. A NaN gives −32768 (callers'
/// values are finite).
#[inline(always)]
#[allow(clippy::manual_clamp)] // deliberate: `clamp` keeps NaN, which the unchecked cast forbids
pub fn round_code(v: f32) -> f32 {
    // `max`/`min` (not `clamp`) also map NaN into range, which makes the unchecked conversion
    // sound; a checked `as` conversion would not vectorize.
    let v = v.max(-32768.0).min(32767.0);
    // SAFETY: `v` is finite and within [−32768, 32767], so it fits an i32.
    let t = unsafe { v.to_int_unchecked::<i32>() };
    let frac = v - t as f32;
    // SAFETY: `frac + frac` is finite and within (−2, 2).
    let step = unsafe { (frac + frac).to_int_unchecked::<i32>() };
    (t + step) as f32
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
/// matrix product's output enters the fixed-point recurrence) and returns the largest magnitude
/// of the rounded values, which the recurrence's state format is chosen from: found in the same
/// pass, so the recurrence need not scan its input again.
pub fn round_to_own_grid(v: &mut [f32]) -> f32 {
    let level = SimdLevel::detect();
    let grid = Grid::new(scale_for(max_magnitude(v)));
    round_all(level, grid, v)
}

/// Lanes of the running maximum of [`round_all`].
const MAX_LANES: usize = 16;

vectorized! {
    /// Rounds every value to `grid`; returns `max_magnitude` of the results (independent running
    /// maxima, so that it vectorizes; the maximum does not depend on the order).
    fn round_all(grid: Grid, v: &mut [f32]) -> f32 {
        let mut lanes = [0f32; MAX_LANES];
        let mut chunks = v.chunks_exact_mut(MAX_LANES);
        for chunk in &mut chunks {
            for (m, x) in lanes.iter_mut().zip(chunk) {
                *x = grid.round(*x);
                let a = x.abs();
                *m = if a > *m { a } else { *m };
            }
        }
        let mut max = lanes.iter().fold(0f32, |m, &l| m.max(l));
        for x in chunks.into_remainder() {
            *x = grid.round(*x);
            max = max.max(x.abs());
        }
        max
    }
}

/// One sequence (batch 1) of the recurrence in fixed point. `u` is `[T, 2, k, H]` (already on its
/// grid) with `u_range` = max|u| (what [`round_to_own_grid`] returns), `highway` is α·x `[T, 2H]`
/// for layers 2..n or `None` (fourth block of `u`). Writes `h` `[T, 2H]`.
pub fn recurrence_fixed(
    dims: RecurrenceDims,
    u: &[f32],
    u_range: f32,
    highway: Option<(&[f32], f32)>,
    params_fx: &[f32],
    h: &mut [f32],
) {
    recurrence_fixed_at(SimdLevel::detect(), dims, u, u_range, highway, params_fx, h);
}

vectorized! {
    /// [`recurrence_fixed`] on a chosen instruction set (every level gives the same bits).
    ///
    /// Each time step runs over the hidden units in blocks of [`LANES`] copied into fixed-size
    /// arrays, so the compiler sees no aliasing and no bounds and turns the block (gates with the
    /// inlined [`expf`], rounding, state update) into straight SIMD code; the last block is
    /// zero-padded.
    pub fn recurrence_fixed_at(
        dims: RecurrenceDims,
        u: &[f32],
        u_range: f32,
        highway: Option<(&[f32], f32)>,
        params_fx: &[f32],
        h: &mut [f32],
    ) {
        let (t_max, hd, k) = (dims.time, dims.hidden, dims.blocks);
        let gate = Grid::new(scale_for(1.0));
        let hw_range = highway.map_or(0.0, |(x, a)| max_magnitude(x) * a);
        let state = Grid::new(scale_for(u_range.max(hw_range)));
        let mut c = vec![0f32; hd];
        for d in 0..2 {
            let param = |i: usize| &params_fx[(2 * i + d) * hd..(2 * i + d + 1) * hd];
            let (vf, vr, bf, br) = (param(0), param(1), param(2), param(3));
            c.fill(0.0);
            for s in 0..t_max {
                let t = if d == 0 { s } else { t_max - 1 - s };
                let ub = &u[(t * 2 + d) * k * hd..][..k * hd];
                let x = match highway {
                    None => &ub[3 * hd..4 * hd],
                    Some((x, _)) => &x[t * 2 * hd + d * hd..][..hd],
                };
                let out = &mut h[t * 2 * hd + d * hd..][..hd];
                for j0 in (0..hd).step_by(LANES) {
                    let n = LANES.min(hd - j0);
                    let load = |v: &[f32]| load_block(&v[j0..], n);
                    let block = Block {
                        u0: load(&ub[..hd]),
                        u1: load(&ub[hd..2 * hd]),
                        u2: load(&ub[2 * hd..3 * hd]),
                        x: load(x),
                        vf: load(vf),
                        vr: load(vr),
                        bf: load(bf),
                        br: load(br),
                    };
                    let mut cb = load(&c);
                    let mut hb = [0f32; LANES];
                    block.step(gate, state, highway.map(|(_, a)| a), &mut cb, &mut hb);
                    store_block(&mut c[j0..], &cb, n);
                    store_block(&mut out[j0..], &hb, n);
                }
            }
        }
    }
}

/// The inputs of [`LANES`] hidden units of one direction at one time step.
struct Block {
    u0: [f32; LANES],
    u1: [f32; LANES],
    u2: [f32; LANES],
    /// The highway input: the fourth block of `u`, or x (scaled and rounded in `step`).
    x: [f32; LANES],
    vf: [f32; LANES],
    vr: [f32; LANES],
    bf: [f32; LANES],
    br: [f32; LANES],
}

impl Block {
    /// Updates the cell states `c` and writes the outputs `h`; `highway_scale` is α when `x` is
    /// the layer input (layers 2..n), `None` when it is already on the state grid.
    #[inline(always)]
    fn step(
        &self,
        gate: Grid,
        state: Grid,
        highway_scale: Option<f32>,
        c: &mut [f32; LANES],
        h: &mut [f32; LANES],
    ) {
        let mut xp = self.x;
        if let Some(a) = highway_scale {
            xp.iter_mut().for_each(|v| *v = state.round(a * *v));
        }
        let mut ef = [0f32; LANES];
        let mut er = [0f32; LANES];
        for l in 0..LANES {
            // Negated sigmoid arguments, summed in the order of the reference formula.
            ef[l] = expf(-(self.u1[l] + self.vf[l] * c[l] + self.bf[l]));
            er[l] = expf(-(self.u2[l] + self.vr[l] * c[l] + self.br[l]));
        }
        for l in 0..LANES {
            let (cn, hl) = cell(gate, state, c[l], ef[l], er[l], self.u0[l], xp[l]);
            c[l] = cn;
            h[l] = hl;
        }
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
    use crate::elementwise::hashed_noise;
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
            let noise = |i: usize, salt: u64| hashed_noise(seed, salt, i) * gain;
            let mut u: Vec<f32> = (0..time * 2 * blocks * hidden).map(|i| noise(i, 1)).collect();
            let u_range = round_to_own_grid(&mut u);
            prop_assert_eq!(u_range.to_bits(), max_magnitude(&u).to_bits());
            let params: Vec<f32> = (0..8 * hidden).map(|i| noise(i, 2) / gain).collect();
            let params = quantize_elementwise(&params);
            let x: Vec<f32> = (0..time * 2 * hidden).map(|i| noise(i, 3)).collect();
            let highway = with_highway.then_some((x.as_slice(), 0.7f32));
            let mut expected = vec![0f32; time * 2 * hidden];
            recurrence_reference(dims, &u, highway, &params, &mut expected);
            for level in SimdLevel::available() {
                let mut h = vec![0f32; time * 2 * hidden];
                recurrence_fixed_at(level, dims, &u, u_range, highway, &params, &mut h);
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
