//! Integer kernels against the naive reference, fake-quant arithmetic, and bad input.

use mohaq_quant::*;
use proptest::prelude::*;

fn paths() -> Vec<KernelPath> {
    available_paths()
}

fn params(bits: BitWidth, scale: f32) -> QuantParams {
    QuantParams {
        bits,
        alpha: bits.qmax() as f32 / scale,
        scale,
    }
}

/// Codes drawn so that the extremes (qmin, qmax) are frequent: they are where overflow hides.
fn codes(bits: BitWidth, n: usize) -> impl Strategy<Value = Vec<i32>> {
    let (lo, hi) = (bits.qmin(), bits.qmax());
    prop::collection::vec(prop_oneof![Just(lo), Just(hi), Just(0), lo..=hi], n)
}

fn bits() -> impl Strategy<Value = BitWidth> {
    prop::sample::select(BitWidth::ALL.to_vec())
}

fn case() -> impl Strategy<Value = (BitWidth, BitWidth, usize, usize, usize, Vec<i32>, Vec<i32>)> {
    (bits(), bits(), 1usize..8, 1usize..70, 1usize..60).prop_flat_map(|(bx, bw, t, k, n)| {
        (
            Just(bx),
            Just(bw),
            Just(t),
            Just(k),
            Just(n),
            codes(bx, t * k),
            codes(bw, n * k),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every path equals the naive i64 reference bit for bit, for every pair of widths.
    #[test]
    fn kernels_equal_reference((bx, bw, t, k, n, xc, wc) in case()) {
        let x = QuantizedActivations::from_codes(&xc, t, k, params(bx, 4.0)).unwrap();
        let w = PackedMatrix::from_codes(&wc, n, k, params(bw, 8.0)).unwrap();
        let expected = reference_qmatmul_int(&xc, &wc, t, k, n);
        for path in paths() {
            prop_assert_eq!(&qmatmul_int(&x, &w, path).unwrap(), &expected, "{:?} {}x{}", path, bx, bw);
        }
    }

    /// The dequantized output equals Σ x̂·ŵ computed in f32 from fake-quantized values, within
    /// the f32 summation error bound 2·(k+1)·ε·Σ|x̂·ŵ| (the kernel itself is exact up to one
    /// final rounding).
    #[test]
    fn kernels_match_fake_quant_f32(
        bx in bits(), bw in bits(), t in 1usize..6, k in 1usize..64, n in 1usize..20,
        seed in any::<u64>(),
    ) {
        let mut s = seed;
        let mut next = || { s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); ((s >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 2.0 };
        let xv: Vec<f32> = (0..t * k).map(|_| next()).collect();
        let wv: Vec<f32> = (0..n * k).map(|_| next() * 0.25).collect();
        let xp = QuantParams::mmse(&xv, bx).unwrap();
        let w = PackedMatrix::quantize_mmse(&wv, n, k, bw).unwrap();
        let xq = QuantizedActivations::quantize(&xv, t, k, xp).unwrap();
        let xhat = xp.fake_quant(&xv).unwrap();
        let what = w.dequantize();
        prop_assert_eq!(&what, &w.params().fake_quant(&wv).unwrap());
        for path in paths() {
            let y = qmatmul_with(&xq, &w, path).unwrap();
            for ti in 0..t {
                for o in 0..n {
                    let mut f = 0f32;
                    let mut mag = 0f32;
                    for j in 0..k {
                        let p = xhat[ti * k + j] * what[o * k + j];
                        f += p;
                        mag += p.abs();
                    }
                    let tol = 2.0 * (k as f32 + 1.0) * f32::EPSILON * mag + 1e-30;
                    let got = y[ti * n + o];
                    prop_assert!((got - f).abs() <= tol, "{:?} got {} f32 {} tol {}", path, got, f, tol);
                }
            }
        }
    }

    /// Packing and unpacking gives back the codes, and the memory is bits/8 per weight (per row,
    /// rounded up to whole bytes).
    #[test]
    fn pack_round_trip(bw in bits(), n in 1usize..20, k in 1usize..40, seed in any::<u64>()) {
        let qmin = bw.qmin() as i64;
        let span = (bw.qmax() as i64 - qmin + 1) as u64;
        let wc: Vec<i32> = (0..n * k).map(|i| {
            let h = (seed ^ (i as u64)).wrapping_mul(0x9E3779B97F4A7C15) >> 17;
            (qmin + (h % span) as i64) as i32
        }).collect();
        let w = PackedMatrix::from_codes(&wc, n, k, params(bw, 2.0)).unwrap();
        prop_assert_eq!(w.codes(), wc);
        let row_bytes = if bw == BitWidth::B16 { 2 * k } else { (k * bw.bits() as usize).div_ceil(8) };
        prop_assert_eq!(w.memory_bytes(), n * row_bytes);
        let again = PackedMatrix::from_packed_bytes(w.packed_bytes().to_vec(), n, k, *w.params()).unwrap();
        prop_assert_eq!(again, w);
    }
}

/// 16 × 16 bits at the extremes: (−32768)² summed over a long row overflows i32 many times over;
/// the widened path must still be exact.
#[test]
fn sixteen_by_sixteen_extremes_are_exact() {
    let (t, k, n) = (2, 1000, 5);
    let xc = vec![-32768; t * k];
    let mut wc = vec![-32768; n * k];
    wc[k] = 32767;
    let x = QuantizedActivations::from_codes(&xc, t, k, params(BitWidth::B16, 1.0)).unwrap();
    let w = PackedMatrix::from_codes(&wc, n, k, params(BitWidth::B16, 1.0)).unwrap();
    assert!(needs_wide_accumulator(&x, &w));
    let expected = reference_qmatmul_int(&xc, &wc, t, k, n);
    assert_eq!(expected[0], 1000 * (1i64 << 30));
    for path in paths() {
        assert_eq!(qmatmul_int(&x, &w, path).unwrap(), expected, "{path:?}");
    }
}

/// The result does not depend on the number of threads (several row blocks, 1 vs 3 threads).
#[test]
fn thread_count_does_not_change_result() {
    let (t, k, n) = (7, 100, 150);
    let xv: Vec<f32> = (0..t * k)
        .map(|i| ((i * 7919 % 1000) as f32 / 500.0) - 1.0)
        .collect();
    let wv: Vec<f32> = (0..n * k)
        .map(|i| ((i * 104729 % 997) as f32 / 498.0) - 1.0)
        .collect();
    let w = PackedMatrix::quantize_mmse(&wv, n, k, BitWidth::B4).unwrap();
    let xp = QuantParams::mmse(&xv, BitWidth::B8).unwrap();
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| quantized_linear(&xv, t, xp, &w).unwrap())
    };
    let one = run(1);
    assert_eq!(one.len(), t * n);
    assert_eq!(one, run(3));
}

#[test]
fn bad_input_errors() {
    let p8 = params(BitWidth::B8, 10.0);
    let w = PackedMatrix::from_codes(&[1, 2, 3, 4, 5, 6], 2, 3, p8).unwrap();
    let x = QuantizedActivations::from_codes(&[1, 2, 3, 4], 2, 2, p8).unwrap();
    assert!(matches!(
        qmatmul(&x, &w),
        Err(QuantError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        QuantizedActivations::quantize(&[1.0, 2.0, 3.0], 2, 2, p8),
        Err(QuantError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        QuantizedActivations::quantize(&[], 0, 2, p8),
        Err(QuantError::Empty { .. })
    ));
    assert!(matches!(
        QuantizedActivations::quantize(&[1.0, f32::NAN], 1, 2, p8),
        Err(QuantError::NonFinite { index: 1, .. })
    ));
    assert!(matches!(
        PackedMatrix::quantize(&[1.0, f32::INFINITY], 1, 2, p8),
        Err(QuantError::NonFinite { index: 1, .. })
    ));
    assert!(matches!(
        PackedMatrix::from_codes(&[0, 2], 1, 2, params(BitWidth::B2, 1.0)),
        Err(QuantError::CodeOutOfRange { index: 1, .. })
    ));
    assert!(matches!(
        PackedMatrix::from_packed_bytes(vec![0; 3], 2, 3, params(BitWidth::B4, 1.0)),
        Err(QuantError::ShapeMismatch { .. })
    ));
}
