//! AVX-512 VNNI kernels: the output-lane kernels of `output_lanes` on 512-bit registers, with
//! panels of 16 output channels: `vpdpbusd` on u8 · i8 quads when both operands have at most 8
//! bits, `vpdpwssd` on i16 pairs when one has 16, and `vpmaddwd` with exact i64 sums
//! (`block_wide`) when the sums could overflow i32 (16 × 16 bits, long rows). AVX-512 VNNI alone is enough (Zen 4 has it
//! without the VEX-encoded AVX-VNNI of Intel's client cores, which the 256-bit kernels need).
//!
//! Twice the lanes per instruction, and 32 registers: the micro-tile is `MT = 8` frames × `NP = 3`
//! panels (48 outputs), 24 accumulators + 3 panel registers + 1 broadcast. Per step it loads 3
//! panel words and 8 broadcasts for 24 multiply-accumulates. The exactness argument is the one
//! in `output_lanes` (modulo-2^32 lanes, true sums that fit in i32, the +128 offset removed with
//! a `vpdpbusd` of the panel against 128s).

use std::arch::x86_64::*;

use super::output_lanes::{Acts, Dest, SharedDest};

/// Output channels per panel (32-bit lanes of a 512-bit register).
pub(super) const LANES512: usize = 16;
const MT: usize = 8;
const NP: usize = 3;

/// Which 512-bit multiply-accumulate runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op512 {
    /// `vpdpbusd` on u8 · i8 quads (both operands ≤ 8 bits).
    DpBusd,
    /// `vpdpwssd` on i16 pairs (any widths whose sums fit in i32).
    DpWssd,
}

impl Op512 {
    pub(super) fn grouping(self) -> super::panel::Grouping {
        match self {
            Op512::DpBusd => super::panel::Grouping::Quads,
            Op512::DpWssd => super::panel::Grouping::Pairs,
        }
    }
}

#[inline]
#[target_feature(enable = "avx512f,avx512vnni")]
fn dpbusd(acc: __m512i, x: __m512i, w: __m512i) -> __m512i {
    _mm512_dpbusd_epi32(acc, x, w)
}

#[inline]
#[target_feature(enable = "avx512f,avx512vnni")]
fn dpwssd(acc: __m512i, x: __m512i, w: __m512i) -> __m512i {
    _mm512_dpwssd_epi32(acc, x, w)
}

macro_rules! micro_kernel {
    ($name:ident, $op:ident) => {
        /// `T'` frames × `P'` panels over `units` groups; the accumulators go to `out`.
        #[inline]
        #[target_feature(enable = "avx512f,avx512vnni")]
        unsafe fn $name<const T: usize, const P: usize>(
            act: *const u8,
            astride: usize,
            panel: *const u32,
            pstride: usize,
            units: usize,
            out: &mut [[__m512i; NP]; MT],
        ) {
            let mut acc = [[_mm512_setzero_si512(); P]; T];
            for u in 0..units {
                let mut w = [_mm512_setzero_si512(); P];
                for (p, slot) in w.iter_mut().enumerate() {
                    *slot =
                        _mm512_loadu_si512(panel.add(p * pstride + u * LANES512) as *const __m512i);
                }
                for (t, acc_t) in acc.iter_mut().enumerate() {
                    let group = (act.add(t * astride + 4 * u) as *const i32).read_unaligned();
                    let x = _mm512_set1_epi32(group);
                    for (a, &wp) in acc_t.iter_mut().zip(&w) {
                        *a = $op(*a, x, wp);
                    }
                }
            }
            for (o, a) in out.iter_mut().zip(&acc) {
                o[..P].copy_from_slice(a);
            }
        }
    };
}

micro_kernel!(micro_busd, dpbusd);
micro_kernel!(micro_wssd, dpwssd);

/// Writes the offset correction of each of the 16-lane quad panels in `panels` (`units` groups
/// each) into 16 words of `out`, panel after panel: computed once per weight matrix, since with
/// one frame (a recurrent step) it costs as much as the product itself.
///
/// # Safety
/// The CPU must support AVX-512F and AVX-512 VNNI; `panels` must hold `out.len() / 16` panels.
#[target_feature(enable = "avx512f,avx512vnni")]
pub(super) unsafe fn offsets_into(panels: &[u32], units: usize, out: &mut [u32]) {
    let pstride = units * LANES512;
    debug_assert!(panels.len() >= out.len() / LANES512 * pstride);
    for (p, dst) in out.chunks_exact_mut(LANES512).enumerate() {
        let v = offset_correction(panels.as_ptr().add(p * pstride), units);
        _mm512_storeu_si512(dst.as_mut_ptr() as *mut __m512i, v);
    }
}

/// `128 · Σ_k w[o][k]` for the 16 outputs of one panel (mod 2^32, like the sums).
#[inline]
#[target_feature(enable = "avx512f,avx512vnni")]
unsafe fn offset_correction(panel: *const u32, units: usize) -> __m512i {
    let offsets = _mm512_set1_epi8(-128); // 0x80 = 128 as u8
    let mut acc = _mm512_setzero_si512();
    for u in 0..units {
        let w = _mm512_loadu_si512(panel.add(u * LANES512) as *const __m512i);
        acc = _mm512_dpbusd_epi32(acc, offsets, w);
    }
    acc
}

/// Computes outputs `o0 .. o0 + nr` (their 16-lane panels of `op`'s grouping in `panels`) for
/// every frame and writes them.
///
/// # Safety
/// The CPU must support AVX-512F and AVX-512 VNNI. `acts` must hold `frames` rows of `units`
/// groups (u8 quads for `DpBusd`, i16 pairs for `DpWssd`), `panels` `nr.div_ceil(16)` panels of
/// `units` groups, `offsets` their 16 offset corrections each (see [`offsets_into`]; zeros for
/// pairs), and `dest` a `frames × ld` matrix with `o0 + nr <= ld`.
// The micro-kernel's inputs are plain pointers and sizes; bundling them would only rename them.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f,avx512vnni")]
pub(super) unsafe fn block(
    op: Op512,
    acts: Acts,
    panels: &[u32],
    offsets: &[u32],
    units: usize,
    o0: usize,
    nr: usize,
    dest: SharedDest,
) {
    let npanels = nr.div_ceil(LANES512);
    let pstride = units * LANES512;
    debug_assert!(panels.len() >= npanels * pstride);
    debug_assert!(offsets.len() >= npanels * LANES512);
    let offsets: Vec<__m512i> = (0..npanels)
        .map(|p| _mm512_loadu_si512(offsets.as_ptr().add(p * LANES512) as *const __m512i))
        .collect();
    let mut out = [[_mm512_setzero_si512(); NP]; MT];
    let mut t0 = 0;
    while t0 < acts.frames {
        let mt = MT.min(acts.frames - t0);
        let aptr = acts.ptr.add(t0 * acts.stride);
        let mut p0 = 0;
        while p0 < npanels {
            let np = NP.min(npanels - p0);
            let pptr = panels.as_ptr().add(p0 * pstride);
            macro_rules! go {
                ($t:literal, $p:literal) => {
                    match op {
                        Op512::DpBusd => {
                            micro_busd::<$t, $p>(aptr, acts.stride, pptr, pstride, units, &mut out)
                        }
                        Op512::DpWssd => {
                            micro_wssd::<$t, $p>(aptr, acts.stride, pptr, pstride, units, &mut out)
                        }
                    }
                };
            }
            macro_rules! by_frames {
                ($p:literal) => {
                    match mt {
                        8 => go!(8, $p),
                        7 => go!(7, $p),
                        6 => go!(6, $p),
                        5 => go!(5, $p),
                        4 => go!(4, $p),
                        3 => go!(3, $p),
                        2 => go!(2, $p),
                        _ => go!(1, $p),
                    }
                };
            }
            match np {
                3 => by_frames!(3),
                2 => by_frames!(2),
                _ => by_frames!(1),
            }
            for (t, row) in out.iter().enumerate().take(mt) {
                for (p, &acc) in row.iter().enumerate().take(np) {
                    let first = (p0 + p) * LANES512;
                    let valid = LANES512.min(nr - first);
                    let v = _mm512_sub_epi32(acc, offsets[p0 + p]);
                    store(dest, t0 + t, o0 + first, v, valid);
                }
            }
            p0 += np;
        }
        t0 += mt;
    }
}

/// Writes `valid` lanes of `v` to row `t`, columns `o..`, as i64 or as `(v as f32) · inv` (the
/// rounding of `dequantize_sum`), with masked stores for a partial panel.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn store(dest: SharedDest, t: usize, o: usize, v: __m512i, valid: usize) {
    let mask = if valid >= LANES512 {
        u16::MAX
    } else {
        (1u16 << valid) - 1
    };
    match dest.dest {
        Dest::Int(y) => {
            let p = y.add(t * dest.ld + o);
            let a = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(v));
            let b = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64::<1>(v));
            _mm512_mask_storeu_epi64(p, mask as u8, a);
            _mm512_mask_storeu_epi64(p.add(8), (mask >> 8) as u8, b);
        }
        Dest::Float(y, inv) => {
            let p = y.add(t * dest.ld + o);
            let f = _mm512_mul_ps(_mm512_cvtepi32_ps(v), _mm512_set1_ps(inv));
            _mm512_mask_storeu_ps(p, mask, f);
        }
    }
}

/// Frames per micro-tile of the wide kernel.
const MT_WIDE: usize = 4;
/// Panels per micro-tile of the wide kernel (each needs two i64 accumulators per frame).
const NP_WIDE: usize = 3;
/// The smallest true value of an i16 pair sum `a0·b0 + a1·b1`: `2 · (−32768 · 32767)`. The
/// largest is `2^31` (both pairs `(−32768)²`), so `sum − PAIR_MIN` lies in `[0, 2^32)`.
const PAIR_MIN: i32 = -2_147_418_112;

/// `T'` frames × `P'` panels of i16 pairs over `units` pairs, summed exactly in i64: each
/// `vpmaddwd` pair sum (modulo 2^32) minus [`PAIR_MIN`] is its true value minus `PAIR_MIN`,
/// an unsigned 32-bit number, which is zero-extended and added into two i64 accumulators
/// (outputs 0–7 and 8–15 of the panel); the caller adds `units · PAIR_MIN` back.
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn micro_wide<const T: usize, const P: usize>(
    act: *const u8,
    astride: usize,
    panel: *const u32,
    pstride: usize,
    units: usize,
    out: &mut [[[__m512i; 2]; NP_WIDE]; MT_WIDE],
) {
    let bias = _mm512_set1_epi32(PAIR_MIN);
    let mut acc = [[[_mm512_setzero_si512(); 2]; P]; T];
    for u in 0..units {
        let mut w = [_mm512_setzero_si512(); P];
        for (p, slot) in w.iter_mut().enumerate() {
            *slot = _mm512_loadu_si512(panel.add(p * pstride + u * LANES512) as *const __m512i);
        }
        for (t, acc_t) in acc.iter_mut().enumerate() {
            let group = (act.add(t * astride + 4 * u) as *const i32).read_unaligned();
            let x = _mm512_set1_epi32(group);
            for (a, &wp) in acc_t.iter_mut().zip(&w) {
                let d = _mm512_sub_epi32(_mm512_madd_epi16(x, wp), bias);
                let lo = _mm512_cvtepu32_epi64(_mm512_castsi512_si256(d));
                let hi = _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64::<1>(d));
                a[0] = _mm512_add_epi64(a[0], lo);
                a[1] = _mm512_add_epi64(a[1], hi);
            }
        }
    }
    for (o, a) in out.iter_mut().zip(&acc) {
        o[..P].copy_from_slice(a);
    }
}

/// Computes outputs `o0 .. o0 + nr` for every frame with exact i64 sums (any widths, any row
/// length: the case whose sums could overflow i32, such as 16 × 16 bits) and writes them.
///
/// # Safety
/// The CPU must support AVX-512F, BW, DQ and VL. `acts` must hold `frames` rows of `units` i16
/// pairs, `panels` `nr.div_ceil(16)` 16-lane pair panels of `units` pairs, and `dest` a
/// `frames × ld` matrix with `o0 + nr <= ld`.
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl")]
pub(super) unsafe fn block_wide(
    acts: Acts,
    panels: &[u32],
    units: usize,
    o0: usize,
    nr: usize,
    dest: SharedDest,
) {
    let npanels = nr.div_ceil(LANES512);
    let pstride = units * LANES512;
    debug_assert!(panels.len() >= npanels * pstride);
    let correction = _mm512_set1_epi64(units as i64 * PAIR_MIN as i64);
    let mut out = [[[_mm512_setzero_si512(); 2]; NP_WIDE]; MT_WIDE];
    let mut t0 = 0;
    while t0 < acts.frames {
        let mt = MT_WIDE.min(acts.frames - t0);
        let aptr = acts.ptr.add(t0 * acts.stride);
        let mut p0 = 0;
        while p0 < npanels {
            let np = NP_WIDE.min(npanels - p0);
            let pptr = panels.as_ptr().add(p0 * pstride);
            macro_rules! go {
                ($t:literal, $p:literal) => {
                    micro_wide::<$t, $p>(aptr, acts.stride, pptr, pstride, units, &mut out)
                };
            }
            macro_rules! by_frames {
                ($p:literal) => {
                    match mt {
                        4 => go!(4, $p),
                        3 => go!(3, $p),
                        2 => go!(2, $p),
                        _ => go!(1, $p),
                    }
                };
            }
            match np {
                3 => by_frames!(3),
                2 => by_frames!(2),
                _ => by_frames!(1),
            }
            for (t, row) in out.iter().enumerate().take(mt) {
                for (p, acc) in row.iter().enumerate().take(np) {
                    let first = (p0 + p) * LANES512;
                    for (half, &v) in acc.iter().enumerate() {
                        let start = first + 8 * half;
                        if start >= nr {
                            break;
                        }
                        let valid = 8.min(nr - start);
                        let v = _mm512_add_epi64(v, correction);
                        store_wide(dest, t0 + t, o0 + start, v, valid);
                    }
                }
            }
            p0 += np;
        }
        t0 += mt;
    }
}

/// Writes `valid` (≤ 8) i64 lanes of `v` to row `t`, columns `o..`, as i64 or as
/// `(v as f32) · inv` (the rounding of `dequantize_sum`: `vcvtqq2ps` rounds to nearest like `as`,
/// then one f32 product).
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl")]
unsafe fn store_wide(dest: SharedDest, t: usize, o: usize, v: __m512i, valid: usize) {
    let mask = ((1u16 << valid) - 1) as u8;
    match dest.dest {
        Dest::Int(y) => _mm512_mask_storeu_epi64(y.add(t * dest.ld + o), mask, v),
        Dest::Float(y, inv) => {
            let f = _mm256_mul_ps(_mm512_cvtepi64_ps(v), _mm256_set1_ps(inv));
            _mm256_mask_storeu_ps(y.add(t * dest.ld + o), mask, f);
        }
    }
}
