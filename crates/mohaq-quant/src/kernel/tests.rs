//! Property tests of the output-lane paths on shapes the integration tests do not reach: several
//! frame tiles (6 frames), several output blocks (up to 256 outputs each) with a partial last
//! panel, rows loaded with arbitrary padding bits, and the dequantized f32 output.

use proptest::prelude::*;

use super::*;
use crate::{BitWidth, QuantParams};

fn params(bits: BitWidth, scale: f32) -> QuantParams {
    QuantParams {
        bits,
        alpha: bits.qmax() as f32 / scale,
        scale,
    }
}

fn bits() -> impl Strategy<Value = BitWidth> {
    prop::sample::select(BitWidth::ALL.to_vec())
}

/// Codes with the extremes frequent (where offsets and overflow go wrong), from a seed.
fn codes(bits: BitWidth, n: usize, seed: u64) -> Vec<i32> {
    let (lo, hi) = (bits.qmin(), bits.qmax());
    let span = (hi - lo + 1) as u64;
    (0..n as u64)
        .map(|i| {
            let h = (seed ^ i).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 20;
            match h % 4 {
                0 => lo,
                1 => hi,
                _ => lo + ((h >> 2) % span) as i32,
            }
        })
        .collect()
}

/// Sets every padding bit after the last code of each packed row, as a file might.
fn with_dirty_padding(w: &PackedMatrix) -> PackedMatrix {
    let used_bits = w.cols() * w.bits().bits() as usize;
    let mut bytes = w.packed_bytes().to_vec();
    if !used_bits.is_multiple_of(8) {
        for row in bytes.chunks_exact_mut(w.row_bytes()) {
            if let Some(last) = row.last_mut() {
                *last |= 0xFFu8 << (used_bits % 8);
            }
        }
    }
    PackedMatrix::from_packed_bytes(bytes, w.rows(), w.cols(), *w.params())
        .expect("same shape as the source matrix")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every path gives the exact integer sums and bit-identical f32 outputs (the reference
    /// sums through `dequantize_sum`), whatever the padding bits of the packed rows hold.
    #[test]
    fn every_path_equals_reference_on_large_shapes(
        bx in bits(), bw in bits(), t in 1usize..20, k in 1usize..45, n in 1usize..300,
        seed in any::<u64>(),
    ) {
        let xc = codes(bx, t * k, seed);
        let wc = codes(bw, n * k, seed.rotate_left(17));
        let x = QuantizedActivations::from_codes(&xc, t, k, params(bx, 3.0)).unwrap();
        let w = PackedMatrix::from_codes(&wc, n, k, params(bw, 5.0)).unwrap();
        let dirty = with_dirty_padding(&w);
        let expected = reference_qmatmul_int(&xc, &wc, t, k, n);
        let inv = dequantize_factor(&x, &w);
        let expected_f32: Vec<f32> = expected.iter().map(|&s| dequantize_sum(s, inv)).collect();
        for path in available_paths() {
            for m in [&w, &dirty] {
                prop_assert_eq!(&qmatmul_int(&x, m, path).unwrap(), &expected, "{:?} {}x{}", path, bx, bw);
                let y = qmatmul_with(&x, m, path).unwrap();
                prop_assert!(
                    y.iter().zip(&expected_f32).all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{:?} {}x{} f32 output differs", path, bx, bw
                );
            }
        }
    }
}

/// The one pair that wraps inside `vpmaddwd`, (−32768)·(−32768) twice, on a row short enough for
/// i32 sums (one column): the output-lane paths must still be exact.
#[test]
fn sixteen_bit_extremes_on_narrow_sums() {
    let (t, k, n) = (7, 1, 20);
    let xc = vec![-32768; t * k];
    let wc = vec![-32768; n * k];
    let x = QuantizedActivations::from_codes(&xc, t, k, params(BitWidth::B16, 1.0)).unwrap();
    let w = PackedMatrix::from_codes(&wc, n, k, params(BitWidth::B16, 1.0)).unwrap();
    assert!(!needs_wide_accumulator(&x, &w));
    let expected = reference_qmatmul_int(&xc, &wc, t, k, n);
    assert_eq!(expected[0], 1 << 30);
    for path in available_paths() {
        assert_eq!(qmatmul_int(&x, &w, path).unwrap(), expected, "{path:?}");
    }
}

/// A matrix keeps the panels of its first product and serves later products from them: one
/// weight matrix against different activations, on every path, stays exact, and on a SIMD path
/// the matrix then holds its layout (the search's reuse across utterances and candidates).
#[test]
fn reused_panels_stay_exact_for_new_activations() {
    let (k, n) = (37, 70);
    for bw in BitWidth::ALL {
        let wc = codes(bw, n * k, 11);
        for path in available_paths() {
            let w = PackedMatrix::from_codes(&wc, n, k, params(bw, 5.0)).unwrap();
            for (seed, t) in [(1u64, 3usize), (2, 9), (3, 1)] {
                let bx = BitWidth::B8;
                let xc = codes(bx, t * k, seed);
                let x = QuantizedActivations::from_codes(&xc, t, k, params(bx, 3.0)).unwrap();
                let expected = reference_qmatmul_int(&xc, &wc, t, k, n);
                assert_eq!(
                    qmatmul_int(&x, &w, path).unwrap(),
                    expected,
                    "{path:?} {bw}"
                );
            }
            // 37 columns keep every pair of widths on i32 sums, so every SIMD path uses panels.
            if path != KernelPath::Portable {
                assert!(w.layout_bytes() > 0, "{path:?} {bw}: no layout kept");
            } else {
                assert_eq!(
                    w.layout_bytes(),
                    0,
                    "{path:?} {bw}: layout on a scalar path"
                );
            }
        }
    }
}

/// Sums that overflow i32 on every path: 16 × 16 bits at the extremes (both pair products
/// (−32768)², where `vpmaddwd` wraps) and mixed signs, over rows long enough for several frame
/// tiles and a partial last panel of the wide kernels.
#[test]
fn sixteen_bit_extremes_on_wide_sums() {
    let (t, k, n) = (9, 45, 37);
    let b = BitWidth::B16;
    for (xs, ws) in [(-32768, -32768), (-32768, 32767), (32767, 32767)] {
        let xc = vec![xs; t * k];
        // Every seventh weight of the other sign (−(−32768) saturates to 32767).
        let flipped = (-ws).min(32767);
        let wc: Vec<i32> = (0..n * k)
            .map(|i| if i % 7 == 3 { flipped } else { ws })
            .collect();
        let x = QuantizedActivations::from_codes(&xc, t, k, params(b, 1.0)).unwrap();
        let w = PackedMatrix::from_codes(&wc, n, k, params(b, 1.0)).unwrap();
        assert!(needs_wide_accumulator(&x, &w));
        let expected = reference_qmatmul_int(&xc, &wc, t, k, n);
        assert!(expected.iter().any(|&s| s.abs() > i32::MAX as i64));
        let inv = dequantize_factor(&x, &w);
        for path in available_paths() {
            assert_eq!(qmatmul_int(&x, &w, path).unwrap(), expected, "{path:?}");
            let y = qmatmul_with(&x, &w, path).unwrap();
            for (a, &s) in y.iter().zip(&expected) {
                assert_eq!(a.to_bits(), dequantize_sum(s, inv).to_bits(), "{path:?}");
            }
        }
    }
}
