//! AVX2 / AVX-VNNI kernels with one output channel per 32-bit lane (see `panel` for the layout).
//!
//! The micro-kernel holds `MT = 6` frames × `NP = 2` panels (16 outputs) of i32 accumulators:
//! 12 registers, plus 2 panel registers and one broadcast activation group, 15 of the 16 ymm
//! registers. Per step it loads 2 panel words and 6 broadcasts and issues 12 multiply-accumulates,
//! so it is bound by the multiply ports, not by loads.
//!
//! Three instructions, one loop shape (every step consumes one 32-bit group per lane):
//! - `vpdpbusd` (AVX-VNNI) on quads: u8 activations (code + 128) · i8 weights, 4 products per lane.
//!   The offset adds `128 · Σ_k w[o][k]` per output, removed in the epilogue; that sum is itself
//!   computed with `vpdpbusd` against a broadcast of 128s, so no extra pass over the weights.
//! - `vpdpwssd` (AVX-VNNI) and `vpmaddwd` + `vpaddd` (AVX2) on i16 pairs, 2 products per lane.
//!
//! Exactness: these run only when the caller found that every true sum fits in i32
//! (`!needs_wide_accumulator`). All three instructions add without saturation, so the i32 lanes
//! compute modulo 2^32 (the +128 offset and the one pair (−32768)² that wraps inside `vpmaddwd`
//! included); a true result that fits in i32 is therefore recovered exactly.

use std::arch::x86_64::*;

use super::panel::{Grouping, LANES};

/// Frames per micro-tile.
const MT: usize = 6;
/// Panels (of 8 outputs) per micro-tile.
const NP: usize = 2;

/// Which multiply-accumulate instruction runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    /// AVX-VNNI `vpdpbusd` on u8 · i8 quads.
    DpBusd,
    /// AVX-VNNI `vpdpwssd` on i16 pairs.
    DpWssd,
    /// AVX2 `vpmaddwd` + `vpaddd` on i16 pairs.
    MaddWd,
}

impl Op {
    pub(super) fn grouping(self) -> Grouping {
        match self {
            Op::DpBusd => Grouping::Quads,
            Op::DpWssd | Op::MaddWd => Grouping::Pairs,
        }
    }
}

/// Where results go: a row-major `T × out` matrix, as exact i64 sums or dequantized f32.
#[derive(Debug, Clone, Copy)]
pub(super) enum Dest {
    Int(*mut i64),
    Float(*mut f32, f32),
}

/// A destination shared by the rayon tasks. Each task writes only its own output columns, so
/// no two tasks touch the same element.
#[derive(Debug, Clone, Copy)]
pub(super) struct SharedDest {
    pub dest: Dest,
    /// Row length of the destination (out).
    pub ld: usize,
}
// SAFETY: see the type's doc; tasks write disjoint elements and the owner waits for all of them.
unsafe impl Send for SharedDest {}
unsafe impl Sync for SharedDest {}

/// Activations as the kernel reads them: frame `t`'s groups start at `ptr + t·stride` bytes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Acts {
    pub ptr: *const u8,
    pub stride: usize,
    pub frames: usize,
}
// SAFETY: the kernels only read through `ptr`, and the owner keeps the rows alive and unchanged
// until every task has finished.
unsafe impl Send for Acts {}
unsafe impl Sync for Acts {}

#[inline]
#[target_feature(enable = "avx2,avxvnni")]
fn dpbusd(acc: __m256i, x: __m256i, w: __m256i) -> __m256i {
    _mm256_dpbusd_avx_epi32(acc, x, w)
}

#[inline]
#[target_feature(enable = "avx2,avxvnni")]
fn dpwssd(acc: __m256i, x: __m256i, w: __m256i) -> __m256i {
    _mm256_dpwssd_avx_epi32(acc, x, w)
}

#[inline]
#[target_feature(enable = "avx2")]
fn maddwd(acc: __m256i, x: __m256i, w: __m256i) -> __m256i {
    _mm256_add_epi32(acc, _mm256_madd_epi16(x, w))
}

macro_rules! micro_kernel {
    ($name:ident, $feat:literal, $op:ident) => {
        /// `T'` frames × `P'` panels over `units` groups; the accumulators go to `out`.
        #[inline]
        #[target_feature(enable = $feat)]
        unsafe fn $name<const T: usize, const P: usize>(
            act: *const u8,
            astride: usize,
            panel: *const u32,
            pstride: usize,
            units: usize,
            out: &mut [[__m256i; NP]; MT],
        ) {
            let mut acc = [[_mm256_setzero_si256(); P]; T];
            for u in 0..units {
                let mut w = [_mm256_setzero_si256(); P];
                for (p, slot) in w.iter_mut().enumerate() {
                    *slot =
                        _mm256_loadu_si256(panel.add(p * pstride + u * LANES) as *const __m256i);
                }
                for (t, acc_t) in acc.iter_mut().enumerate() {
                    let group = (act.add(t * astride + 4 * u) as *const i32).read_unaligned();
                    let x = _mm256_set1_epi32(group);
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

micro_kernel!(micro_busd, "avx2,avxvnni", dpbusd);
micro_kernel!(micro_wssd, "avx2,avxvnni", dpwssd);
micro_kernel!(micro_maddwd, "avx2", maddwd);

/// Computes outputs `o0 .. o0 + nr` (their panels in `panels`) for every frame and writes them.
///
/// # Safety
/// The CPU must support AVX2, and AVX-VNNI unless `op` is [`Op::MaddWd`]. `acts` must hold
/// `frames` rows of `units` groups, `panels` `nr.div_ceil(8)` panels of `units` groups,
/// `offsets` their 8 offset corrections each (see [`offsets_into`]; zeros unless `op` is
/// [`Op::DpBusd`]), and `dest` a `frames × ld` matrix with `o0 + nr <= ld`.
// The micro-kernel's inputs are plain pointers and sizes; bundling them would only rename them.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2")]
pub(super) unsafe fn block(
    op: Op,
    acts: Acts,
    panels: &[u32],
    offsets: &[u32],
    units: usize,
    o0: usize,
    nr: usize,
    dest: SharedDest,
) {
    let npanels = nr.div_ceil(LANES);
    let pstride = units * LANES;
    debug_assert!(panels.len() >= npanels * pstride);
    debug_assert!(offsets.len() >= npanels * LANES);
    let offsets: Vec<__m256i> = (0..npanels)
        .map(|p| _mm256_loadu_si256(offsets.as_ptr().add(p * LANES) as *const __m256i))
        .collect();
    let mut out = [[_mm256_setzero_si256(); NP]; MT];
    // Frames outside, panels inside: the block's panels stay in cache across frame tiles, and
    // each frame tile writes its rows of the block contiguously.
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
                        Op::DpBusd => {
                            micro_busd::<$t, $p>(aptr, acts.stride, pptr, pstride, units, &mut out)
                        }
                        Op::DpWssd => {
                            micro_wssd::<$t, $p>(aptr, acts.stride, pptr, pstride, units, &mut out)
                        }
                        Op::MaddWd => micro_maddwd::<$t, $p>(
                            aptr,
                            acts.stride,
                            pptr,
                            pstride,
                            units,
                            &mut out,
                        ),
                    }
                };
            }
            match (mt, np) {
                (6, 2) => go!(6, 2),
                (5, 2) => go!(5, 2),
                (4, 2) => go!(4, 2),
                (3, 2) => go!(3, 2),
                (2, 2) => go!(2, 2),
                (1, 2) => go!(1, 2),
                (6, _) => go!(6, 1),
                (5, _) => go!(5, 1),
                (4, _) => go!(4, 1),
                (3, _) => go!(3, 1),
                (2, _) => go!(2, 1),
                _ => go!(1, 1),
            }
            for (t, row) in out.iter().enumerate().take(mt) {
                for (p, &acc) in row.iter().enumerate().take(np) {
                    let first = (p0 + p) * LANES;
                    let valid = LANES.min(nr - first);
                    let v = _mm256_sub_epi32(acc, offsets[p0 + p]);
                    store(dest, t0 + t, o0 + first, v, valid);
                }
            }
            p0 += np;
        }
        t0 += mt;
    }
}

/// Writes the offset correction of each of the 8-lane quad panels in `panels` (`units` groups
/// each) into 8 words of `out`, panel after panel: computed once per weight matrix, since with
/// one frame (a recurrent step) it costs as much as the product itself.
///
/// # Safety
/// The CPU must support AVX2 and AVX-VNNI; `panels` must hold `out.len() / 8` panels.
#[target_feature(enable = "avx2,avxvnni")]
pub(super) unsafe fn offsets_into(panels: &[u32], units: usize, out: &mut [u32]) {
    let pstride = units * LANES;
    debug_assert!(panels.len() >= out.len() / LANES * pstride);
    for (p, dst) in out.chunks_exact_mut(LANES).enumerate() {
        let v = offset_correction(panels.as_ptr().add(p * pstride), units);
        _mm256_storeu_si256(dst.as_mut_ptr() as *mut __m256i, v);
    }
}

/// `128 · Σ_k w[o][k]` for the 8 outputs of one quad panel (mod 2^32, like the sums).
#[inline]
#[target_feature(enable = "avx2,avxvnni")]
unsafe fn offset_correction(panel: *const u32, units: usize) -> __m256i {
    let offsets = _mm256_set1_epi8(-128); // 0x80 = 128 as u8
    let mut acc = _mm256_setzero_si256();
    for u in 0..units {
        let w = _mm256_loadu_si256(panel.add(u * LANES) as *const __m256i);
        acc = _mm256_dpbusd_avx_epi32(acc, offsets, w);
    }
    acc
}

/// Writes `valid` lanes of `v` to row `t`, columns `o..`, as i64 or as `(v as f32) · inv` (the
/// rounding of [`super::dequantize_sum`]: i32 → f32 rounds to nearest like `as`, then one f32
/// product).
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn store(dest: SharedDest, t: usize, o: usize, v: __m256i, valid: usize) {
    match dest.dest {
        Dest::Int(y) => {
            let p = y.add(t * dest.ld + o);
            let a = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(v));
            let b = _mm256_cvtepi32_epi64(_mm256_extracti128_si256::<1>(v));
            if valid == LANES {
                _mm256_storeu_si256(p as *mut __m256i, a);
                _mm256_storeu_si256(p.add(4) as *mut __m256i, b);
            } else {
                let mut tmp = [0i64; LANES];
                _mm256_storeu_si256(tmp.as_mut_ptr() as *mut __m256i, a);
                _mm256_storeu_si256(tmp.as_mut_ptr().add(4) as *mut __m256i, b);
                std::ptr::copy_nonoverlapping(tmp.as_ptr(), p, valid);
            }
        }
        Dest::Float(y, inv) => {
            let p = y.add(t * dest.ld + o);
            let f = _mm256_mul_ps(_mm256_cvtepi32_ps(v), _mm256_set1_ps(inv));
            if valid == LANES {
                _mm256_storeu_ps(p, f);
            } else {
                let mut tmp = [0f32; LANES];
                _mm256_storeu_ps(tmp.as_mut_ptr(), f);
                std::ptr::copy_nonoverlapping(tmp.as_ptr(), p, valid);
            }
        }
    }
}
