//! 16-bit fixed point with a per-tensor integer/fraction split (METHOD §4.2).
//!
//! The paper's examples (Q1.14 below 2, Q5.10 below 32, else Q8.7) are generalised to the tightest
//! split: the fewest integer bits `i ≥ 1` with max|x| < 2^i, and 15 − i fraction bits (one bit is the
//! sign). For max|x| < 2 this is exactly Q1.14; wider ranges get more fraction bits than the paper's
//! three coarse steps would give. The floor of one integer bit matches the paper's smallest format.
//! Ranges of 2^15 and beyond use Q15.0 and saturate.

/// A 16-bit fixed-point format Q`int_bits`.`frac_bits` (int_bits + frac_bits = 15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedFormat {
    pub int_bits: u32,
    pub frac_bits: u32,
}

impl FixedFormat {
    /// The tightest format holding magnitudes below `range` (see the module doc).
    pub fn for_range(range: f32) -> FixedFormat {
        let mut int_bits = 1;
        while int_bits < 15 && range >= (1u32 << int_bits) as f32 {
            int_bits += 1;
        }
        FixedFormat {
            int_bits,
            frac_bits: 15 - int_bits,
        }
    }

    /// The scale 2^frac_bits (codes are round(x · scale)).
    pub fn scale(self) -> f32 {
        (1u32 << self.frac_bits) as f32
    }
}
