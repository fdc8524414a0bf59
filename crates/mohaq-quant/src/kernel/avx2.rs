//! AVX2 inner loop for wide (i64) accumulation: a register-blocked micro-kernel of `MT` frames ×
//! `MO` weight rows built on `vpmaddwd` (16 i16 products summed pairwise into 8 i32 lanes per
//! instruction), each result widened to i64 before adding. Narrow (i32) sums run on the
//! output-lane kernels in `output_lanes` instead. The one product pair that overflows i32 inside `vpmaddwd` is
//! (−32768)·(−32768) twice = 2^31, which wraps to i32::MIN; no honest pair sum equals i32::MIN
//! (the most negative is 2·(−32768·32767)), so subtracting 1 before widening and adding the count
//! back at the end recovers every pair exactly.

use std::arch::x86_64::*;

const MT: usize = 3;
const MO: usize = 3;

/// Fills `tile` (frames × nr, frame-major). Rows of `x` and `wrows` are `stride` long, a
/// multiple of 16, zero-padded.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn tile_wide(
    x: &[i16],
    wrows: &[i16],
    stride: usize,
    nr: usize,
    tile: &mut [i64],
) {
    debug_assert_eq!(stride % 16, 0);
    let frames = x.len() / stride;
    let mut o0 = 0;
    while o0 < nr {
        let mo = MO.min(nr - o0);
        let mut t0 = 0;
        while t0 < frames {
            let mt = MT.min(frames - t0);
            // Dispatch to a fixed-size instantiation so the accumulators live in registers.
            macro_rules! go {
                ($mt:literal, $mo:literal) => {
                    micro_wide::<$mt, $mo>(x, wrows, stride, t0, o0, nr, tile)
                };
            }
            match (mt, mo) {
                (3, 3) => go!(3, 3),
                (3, 2) => go!(3, 2),
                (3, 1) => go!(3, 1),
                (2, 3) => go!(2, 3),
                (2, 2) => go!(2, 2),
                (2, 1) => go!(2, 1),
                (1, 3) => go!(1, 3),
                (1, 2) => go!(1, 2),
                _ => go!(1, 1),
            }
            t0 += mt;
        }
        o0 += mo;
    }
}

#[inline]
#[target_feature(enable = "avx2")]
fn hsum_i64(v: __m256i) -> i64 {
    let s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
    let s = _mm_add_epi64(s, _mm_unpackhi_epi64(s, s));
    _mm_cvtsi128_si64(s)
}

/// `MT'×MO'` dot products with i64 accumulators (see the module doc for the −1 correction).
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn micro_wide<const T: usize, const O: usize>(
    x: &[i16],
    w: &[i16],
    stride: usize,
    t0: usize,
    o0: usize,
    nr: usize,
    tile: &mut [i64],
) {
    let xp = x.as_ptr().add(t0 * stride);
    let wp = w.as_ptr().add(o0 * stride);
    let ones = _mm256_set1_epi32(1);
    let mut acc = [[_mm256_setzero_si256(); O]; T];
    let mut k = 0;
    while k < stride {
        let mut wv = [_mm256_setzero_si256(); O];
        for (o, slot) in wv.iter_mut().enumerate() {
            *slot = _mm256_loadu_si256(wp.add(o * stride + k) as *const __m256i);
        }
        for (t, acc_t) in acc.iter_mut().enumerate() {
            let xv = _mm256_loadu_si256(xp.add(t * stride + k) as *const __m256i);
            for (a, &wo) in acc_t.iter_mut().zip(&wv) {
                let m = _mm256_sub_epi32(_mm256_madd_epi16(xv, wo), ones);
                let lo = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(m));
                let hi = _mm256_cvtepi32_epi64(_mm256_extracti128_si256::<1>(m));
                *a = _mm256_add_epi64(*a, _mm256_add_epi64(lo, hi));
            }
        }
        k += 16;
    }
    // Each vpmaddwd contributed 8 lanes, each lowered by one.
    let correction = (stride / 16 * 8) as i64;
    for (t, acc_t) in acc.iter().enumerate() {
        for (o, &a) in acc_t.iter().enumerate() {
            tile[(t0 + t) * nr + o0 + o] = hsum_i64(a) + correction;
        }
    }
}
