//! `expf` in a form that vectorizes, bit for bit the C library's.
//!
//! The gates of the fixed-point recurrence are `1 / (1 + exp(−x))`, two `expf` calls per hidden
//! unit per frame. The C library's `expf` is a call the compiler cannot vectorize; it was a sixth
//! of a candidate evaluation. This is the same algorithm (ARM's optimized-routines `expf`, glibc's
//! since 2.27: `x·32/ln 2 = k + r`, `2^(k/32)` from a 32-entry table, a cubic in `r`, all in f64),
//! with the same constants and the fused multiply-adds of glibc's FMA build, so it returns the same
//! float as glibc's `expf` for every input; the exhaustive test below checks every f32 in the
//! range that does not saturate. Written without branches or calls, so the recurrence loop that
//! inlines it vectorizes on every [`mohaq_quant::SimdLevel`].

/// `tab[i] = bits(2^(i/32)) − (i << 47)`: adding `k << 47` puts `k / 32`'s integer part into the
/// exponent.
const TABLE: [u64; 32] = [
    0x3ff0000000000000,
    0x3fefd9b0d3158574,
    0x3fefb5586cf9890f,
    0x3fef9301d0125b51,
    0x3fef72b83c7d517b,
    0x3fef54873168b9aa,
    0x3fef387a6e756238,
    0x3fef1e9df51fdee1,
    0x3fef06fe0a31b715,
    0x3feef1a7373aa9cb,
    0x3feedea64c123422,
    0x3feece086061892d,
    0x3feebfdad5362a27,
    0x3feeb42b569d4f82,
    0x3feeab07dd485429,
    0x3feea47eb03a5585,
    0x3feea09e667f3bcd,
    0x3fee9f75e8ec5f74,
    0x3feea11473eb0187,
    0x3feea589994cce13,
    0x3feeace5422aa0db,
    0x3feeb737b0cdc5e5,
    0x3feec49182a3f090,
    0x3feed503b23e255d,
    0x3feee89f995ad3ad,
    0x3feeff76f2fb5e47,
    0x3fef199bdd85529c,
    0x3fef3720dcef9069,
    0x3fef5818dcfba487,
    0x3fef7c97337b9b5f,
    0x3fefa4afa2a490da,
    0x3fefd0765b6e4540,
];

/// 32 / ln 2 (0x1.71547652b82fep+0 · 32).
const INV_LN2_N: f64 = f64::from_bits(0x4047_1547_652b_82fe);
/// 1.5 · 2^52: adding it rounds to an integer kept in the low mantissa bits.
const SHIFT: f64 = f64::from_bits(0x4338_0000_0000_0000);
/// The cubic's coefficients (about ln2³/6, ln2²/2, ln2) scaled by 32^−3, 32^−2, 32^−1; the
/// scalings are exact powers of two.
const C0: f64 = f64::from_bits(0x3fac_6af8_4b91_2394) / 32768.0;
const C1: f64 = f64::from_bits(0x3fce_bfce_50fa_c4f3) / 1024.0;
const C2: f64 = f64::from_bits(0x3fe6_2e42_ff0c_52d6) / 32.0;
/// Above this `expf` overflows to +inf (0x1.62e42ep6 ≈ log 2^128).
const OVERFLOW: f32 = f32::from_bits(0x42b1_7217);
/// Below this `expf` underflows to +0 (−0x1.9fe368p6 ≈ log 2^−150).
const UNDERFLOW: f32 = f32::from_bits(0xc2cf_f1b4);

/// `e^x`, the same float as glibc's `expf(x)` for every `x`.
#[inline(always)]
pub fn expf(x: f32) -> f32 {
    let xd = f64::from(x);
    // x·32/ln 2 = k + r, |r| ≤ ½; glibc's FMA build fuses the product into both uses.
    let kd_shifted = INV_LN2_N.mul_add(xd, SHIFT);
    let ki = kd_shifted.to_bits();
    let kd = kd_shifted - SHIFT;
    let r = INV_LN2_N.mul_add(xd, -kd);
    let t = TABLE[(ki % 32) as usize].wrapping_add(ki << 47);
    let s = f64::from_bits(t);
    let p = C0.mul_add(r, C1);
    let r2 = r * r;
    let y = C2.mul_add(r, 1.0);
    let y = (p.mul_add(r2, y) * s) as f32;
    // Selections rather than early returns, so that a loop over `expf` stays branch-free.
    let y = if x > OVERFLOW { f32::INFINITY } else { y };
    let y = if x < UNDERFLOW { 0.0 } else { y };
    if x.is_nan() {
        x + x
    } else {
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_holds_the_32nd_roots_of_two() {
        for (i, &t) in TABLE.iter().enumerate() {
            let v = f64::from_bits(t.wrapping_add((i as u64) << 47));
            assert!(
                (v - (i as f64 / 32.0).exp2()).abs() <= f64::EPSILON,
                "entry {i}"
            );
        }
    }

    fn mismatches(step: usize) -> Vec<(f32, f32, f32)> {
        (0..=u32::MAX)
            .step_by(step)
            .map(f32::from_bits)
            .filter(|x| x.is_finite())
            .filter(|x| expf(*x).to_bits() != x.exp().to_bits())
            .map(|x| (x, expf(x), x.exp()))
            .take(5)
            .collect()
    }

    /// Every 997th f32 (4.3 million values across all magnitudes), and the edges.
    #[test]
    fn equals_the_c_library_on_a_sample_of_all_floats() {
        assert_eq!(mismatches(997), vec![]);
        for x in [
            0.0,
            -0.0,
            OVERFLOW,
            f32::from_bits(OVERFLOW.to_bits() + 1),
            UNDERFLOW,
            f32::from_bits(UNDERFLOW.to_bits() + 1),
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::MAX,
            f32::MIN,
            f32::MIN_POSITIVE,
        ] {
            assert_eq!(expf(x).to_bits(), x.exp().to_bits(), "x = {x}");
        }
        assert!(expf(f32::NAN).is_nan());
    }

    /// All 4.3 billion floats (about a minute): `cargo test --release -p mohaq-sru expf -- --ignored`.
    #[test]
    #[ignore]
    fn equals_the_c_library_on_every_float() {
        assert_eq!(mismatches(1), vec![]);
    }
}
