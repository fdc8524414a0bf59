//! Quantizer, calibration, fixed point and bad-input tests.

use mohaq_quant::*;
use proptest::prelude::*;

/// Brute-force MMSE over raw values (not bin centres) must pick an α close to the histogram MMSE:
/// the histogram is an approximation, but on a smooth distribution they agree to a few candidates.
#[test]
fn mmse_matches_definition_on_bin_centres() {
    // Values placed exactly on bin centres: the histogram estimate is then exact.
    let max = 2.01f32;
    let width = 2.0 * max as f64 / 201.0;
    let mut values = vec![max, -max];
    for i in 0..201 {
        let c = -max as f64 + (i as f64 + 0.5) * width;
        // Gaussian-like weights: many copies near zero, few in the tails.
        let copies = (200.0 * (-(c * c) / 0.1).exp()).round() as usize + 1;
        values.extend(std::iter::repeat_n(c as f32, copies));
    }
    let bits = BitWidth::B4;
    let alpha = mmse_alpha(&values, bits).unwrap();
    let m = values.iter().fold(0f32, |m, v| m.max(v.abs())) as f64;
    // Independent evaluation of the objective for every candidate over the raw values.
    let err = |a: f64| -> f64 {
        let s = 7.0 / a;
        values
            .iter()
            .map(|&x| {
                let x = x as f64;
                if x.abs() > a {
                    (x.abs() - a).powi(2)
                } else {
                    let q = (x * s).round().clamp(-8.0, 7.0);
                    (x - q / s).powi(2)
                }
            })
            .sum::<f64>()
    };
    let best = (1..=99)
        .map(|k| k as f64 / 100.0 * m)
        .min_by(|a, b| err(*a).total_cmp(&err(*b)))
        .unwrap();
    assert!(
        (alpha as f64 - best).abs() <= 0.0101 * m,
        "mmse alpha {alpha} vs brute force {best}"
    );
    // A heavy-tailed tensor must clip: α well below max.
    assert!(
        alpha < 0.9 * m as f32,
        "alpha {alpha} should clip the tails"
    );
}

#[test]
fn mmse_clips_less_at_more_bits() {
    let values: Vec<f32> = (0..5000)
        .map(|i| {
            let u = (i as f32 + 0.5) / 5000.0;
            // Laplace-like quantile function.
            if u < 0.5 {
                (2.0 * u).ln()
            } else {
                -(2.0 * (1.0 - u)).ln()
            }
        })
        .collect();
    let a2 = mmse_alpha(&values, BitWidth::B2).unwrap();
    let a4 = mmse_alpha(&values, BitWidth::B4).unwrap();
    let a8 = mmse_alpha(&values, BitWidth::B8).unwrap();
    assert!(a2 < a4 && a4 < a8, "{a2} {a4} {a8}");
}

#[test]
fn bit_width_rejects_others() {
    for b in [0, 1, 3, 5, 7, 12, 32] {
        assert!(matches!(
            BitWidth::new(b).map_err(QuantError::from),
            Err(QuantError::InvalidBitWidth(x)) if x == b
        ));
    }
    for b in [2, 4, 8, 16] {
        assert_eq!(BitWidth::new(b).unwrap().bits(), b);
    }
    assert_eq!(BitWidth::B4.qmin(), -8);
    assert_eq!(BitWidth::B4.qmax(), 7);
    let parsed: Result<BitWidth, _> = serde_json::from_str("3");
    assert!(parsed.is_err());
    assert_eq!(serde_json::to_string(&BitWidth::B8).unwrap(), "8");
}

#[test]
fn fixed_point_split_follows_range() {
    assert_eq!(FixedFormat::for_range(1.5).frac_bits, 14); // Q1.14
    assert_eq!(FixedFormat::for_range(0.1).frac_bits, 14); // floor of one integer bit
    assert_eq!(FixedFormat::for_range(2.0).frac_bits, 13); // Q2.13
    assert_eq!(FixedFormat::for_range(31.0).frac_bits, 10); // Q5.10
    assert_eq!(FixedFormat::for_range(200.0).frac_bits, 7); // Q8.7
    assert_eq!(FixedFormat::for_range(1e9).frac_bits, 0); // saturating Q15.0
    let p = QuantParams::calibrate(&[0.5, -1.9], BitWidth::B16, Calibration::Mmse).unwrap();
    assert_eq!(p.scale, 16384.0);
    assert_eq!(p.fixed_format().unwrap().frac_bits, 14);
    assert_eq!(p.quantize_one(1.0), 16384);
    assert_eq!(p.quantize_one(-5.0), -32768);
}

#[test]
fn bad_input_gives_typed_errors() {
    assert!(matches!(
        mmse_alpha(&[], BitWidth::B4),
        Err(QuantError::Empty { .. })
    ));
    assert!(matches!(
        mmse_alpha(&[1.0, f32::NAN], BitWidth::B4),
        Err(QuantError::NonFinite { index: 1, .. })
    ));
    assert!(matches!(
        max_alpha(&[f32::INFINITY]),
        Err(QuantError::NonFinite { index: 0, .. })
    ));
    assert!(matches!(
        percentile_alpha(&[1.0], 0.0),
        Err(QuantError::InvalidParam { .. })
    ));
    assert!(matches!(
        QuantParams::from_alpha(BitWidth::B8, 0.0),
        Err(QuantError::InvalidParam { .. })
    ));
    assert!(matches!(
        QuantParams::from_alpha(BitWidth::B8, f32::NAN),
        Err(QuantError::InvalidParam { .. })
    ));
    let p = QuantParams::from_alpha(BitWidth::B4, 1.0).unwrap();
    assert!(matches!(
        p.fake_quant(&[0.0, f32::NEG_INFINITY]),
        Err(QuantError::NonFinite { index: 1, .. })
    ));
    assert!(matches!(
        p.dequantize(&[0, 8]),
        Err(QuantError::CodeOutOfRange {
            index: 1,
            value: 8,
            bits: 4
        })
    ));
    // All-zero tensors calibrate to a usable α and quantize to zeros.
    let z = QuantParams::mmse(&[0.0; 10], BitWidth::B2).unwrap();
    assert_eq!(z.fake_quant(&[0.0; 3]).unwrap(), vec![0.0; 3]);
}

#[test]
fn percentile_and_max() {
    let v: Vec<f32> = (1..=100)
        .map(|i| i as f32 * if i % 2 == 0 { -1.0 } else { 1.0 })
        .collect();
    assert_eq!(max_alpha(&v).unwrap(), 100.0);
    assert_eq!(percentile_alpha(&v, 90.0).unwrap(), 90.0);
    assert_eq!(percentile_alpha(&v, 100.0).unwrap(), 100.0);
    assert_eq!(
        calibrate_alpha(&v, BitWidth::B8, Calibration::MaxFraction(0.8)).unwrap(),
        80.0
    );
}

fn finite_vec() -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(-100.0f32..100.0, 1..300)
}

fn any_bits() -> impl Strategy<Value = BitWidth> {
    prop::sample::select(BitWidth::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]
    /// Codes stay inside [qmin, qmax]; inside the clip range the fake-quant error is at most half
    /// a step; outside it the value saturates to the clip boundary.
    #[test]
    fn quantizer_bounds(values in finite_vec(), bits in any_bits(), method in 0usize..3) {
        let method = [Calibration::Mmse, Calibration::Max, Calibration::Percentile(95.0)][method];
        let p = QuantParams::calibrate(&values, bits, method).unwrap();
        prop_assert!(p.alpha > 0.0 && p.scale > 0.0);
        let codes = p.quantize(&values).unwrap();
        let fq = p.fake_quant(&values).unwrap();
        for ((&x, &q), &y) in values.iter().zip(&codes).zip(&fq) {
            prop_assert!(q >= bits.qmin() && q <= bits.qmax());
            prop_assert_eq!(y, q as f32 * p.inv_scale());
            if x.abs() <= p.alpha {
                prop_assert!((x - y).abs() <= 0.5 / p.scale * 1.0001 + 1e-6,
                    "x {} y {} step {}", x, y, 1.0 / p.scale);
            } else {
                // Saturated: the top code for positives, the top or the extra negative code below.
                if x > 0.0 {
                    prop_assert_eq!(q, bits.qmax());
                } else {
                    prop_assert!(q == -bits.qmax() || q == bits.qmin());
                }
            }
        }
        // Fake quantization is idempotent.
        prop_assert_eq!(p.fake_quant(&fq).unwrap(), fq);
    }

    /// The MMSE α is one of the 99 candidates and not larger than max|x|.
    #[test]
    fn mmse_alpha_is_a_candidate(values in finite_vec(), bits in any_bits()) {
        let m = values.iter().fold(0f32, |m, v| m.max(v.abs()));
        let a = mmse_alpha(&values, bits).unwrap();
        if m == 0.0 {
            prop_assert_eq!(a, ALPHA_FOR_ZERO_TENSOR);
        } else {
            let k = (a as f64 / m as f64 * 100.0).round();
            prop_assert!((1.0..=99.0).contains(&k));
            prop_assert!((a as f64 - k / 100.0 * m as f64).abs() <= 1e-5 * m as f64);
        }
    }
}

/// METHOD §4.2 written the plain way (library `floor` and `round`, a sequential maximum): the
/// crate's `mmse_alpha` avoids those calls for speed and must give the same α bit for bit.
fn mmse_alpha_textbook(values: &[f32], bits: BitWidth) -> f32 {
    let max = values.iter().fold(0f32, |m, v| m.max(v.abs())) as f64;
    if max == 0.0 {
        return ALPHA_FOR_ZERO_TENSOR;
    }
    let width = 2.0 * max / MMSE_BINS as f64;
    let mut counts = [0u64; MMSE_BINS];
    for &v in values {
        let idx = ((v as f64 + max) / width).floor().max(0.0) as usize;
        counts[idx.min(MMSE_BINS - 1)] += 1;
    }
    let n = values.len() as f64;
    let (qmin, qmax) = (bits.qmin() as f64, bits.qmax() as f64);
    let mut best = (f64::INFINITY, max);
    for k in 1..=99u32 {
        let alpha = k as f64 / 100.0 * max;
        let scale = qmax / alpha;
        let err: f64 = counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(i, &c)| {
                let centre = -max + (i as f64 + 0.5) * width;
                let e = if centre.abs() > alpha {
                    centre.abs() - alpha
                } else {
                    centre - (centre * scale).round().clamp(qmin, qmax) / scale
                };
                c as f64 / n * e * e
            })
            .sum();
        if err < best.0 {
            best = (err, alpha);
        }
    }
    best.1 as f32
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]
    /// Heavy-tailed values too (|v|^skew keeps the sign), as activations are.
    #[test]
    fn mmse_alpha_equals_the_textbook_definition(
        values in prop::collection::vec(-50f32..50.0, 1..400),
        skew in 0.05f32..3.0,
        bits in prop::sample::select(vec![BitWidth::B2, BitWidth::B4, BitWidth::B8]),
    ) {
        let values: Vec<f32> = values.iter().map(|v| v.signum() * v.abs().powf(skew)).collect();
        let fast = mmse_alpha(&values, bits).unwrap();
        prop_assert_eq!(fast.to_bits(), mmse_alpha_textbook(&values, bits).to_bits());
    }

    /// `quantize_one` equals `clamp(round(x · scale))` with the library `round`, on exact ties
    /// (k + ½ codes), far outside the range, at ±inf and NaN (→ 0).
    #[test]
    fn quantize_one_equals_library_rounding(
        values in prop::collection::vec(-6f32..6.0, 1..120),
        ties in prop::collection::vec(-40i32..40, 0..20),
        alpha in 0.01f32..8.0,
        bits in any_bits(),
    ) {
        let p = QuantParams::from_alpha(bits, alpha).unwrap();
        let mut values = values;
        values.extend(ties.iter().map(|&k| (k as f32 + 0.5) / p.scale));
        values.extend([1e6, -1e6, f32::INFINITY, f32::NEG_INFINITY, f32::NAN, 0.0, -0.0]);
        let (qmin, qmax) = (bits.qmin() as f32, bits.qmax() as f32);
        for &x in &values {
            let textbook = (x * p.scale).round().clamp(qmin, qmax) as i32;
            prop_assert_eq!(p.quantize_one(x), textbook, "x = {}", x);
        }
    }
}

#[test]
fn non_finite_values_are_found_wherever_they_are() {
    for len in [1usize, 7, 8, 9, 33] {
        for at in 0..len {
            for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                let mut v = vec![0.25f32; len];
                v[at] = bad;
                match mmse_alpha(&v, BitWidth::B4) {
                    Err(QuantError::NonFinite { index, .. }) => assert_eq!(index, at),
                    other => panic!("len {len}, {bad} at {at}: {other:?}"),
                }
            }
        }
    }
}
