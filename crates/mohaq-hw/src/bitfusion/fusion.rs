//! How many products one Fusion Unit delivers per cycle at given operand widths (HARDWARE.md
//! §4.2), and how 16-bit operands are handled.
//!
//! The reference simulator computes `floor(pmax / max(bits, pmin))` per operand, which is 0 for a
//! 16-bit operand with pmax = 8 and then divides by zero. Bit Fusion's paper runs wider operands
//! *temporally*: a 16-bit operand is split into two 8-bit halves processed in consecutive passes.
//! We model exactly that: an operand wider than `pmax` contributes a factor of 1 and
//! `ceil(bits / pmax)` passes, so 16×16 takes 4 passes at 8×8, 16×8 two passes, 16×2 two passes
//! of 8×2 (4 products each). Passes multiply the compute cycles only; buffer footprints and
//! traffic use the real operand widths. This keeps the cycle model consistent with the paper's
//! analytic speedup `min(64, 256/(w·a))` for every pair of {2, 4, 8, 16}.

/// Throughput of a Fusion Unit at one (activation, weight) width pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fusion {
    /// Products per Fusion Unit per cycle (the reference's `perf_factor`).
    pub products_per_cycle: u64,
    /// Temporal passes needed for operands wider than `pmax` (1 when both fit).
    pub passes: u64,
}

impl Fusion {
    /// Fusion of `activation_bits` × `weight_bits` operands on a unit with `pmin..=pmax`.
    pub fn new(activation_bits: u32, weight_bits: u32, pmin: u32, pmax: u32) -> Self {
        let (fa, pa) = per_operand(activation_bits, pmin, pmax);
        let (fw, pw) = per_operand(weight_bits, pmin, pmax);
        Fusion {
            products_per_cycle: fa * fw,
            passes: pa * pw,
        }
    }
}

/// `(spatial factor, temporal passes)` of one operand.
fn per_operand(bits: u32, pmin: u32, pmax: u32) -> (u64, u64) {
    if bits <= pmax {
        (u64::from(pmax / bits.max(pmin)), 1)
    } else {
        (1, u64::from(bits.div_ceil(pmax)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_factors_for_fused_widths() {
        // HARDWARE.md §4.2: per operand 2 → 4, 4 → 2, 8 → 1.
        assert_eq!(Fusion::new(2, 2, 2, 8).products_per_cycle, 16);
        assert_eq!(Fusion::new(4, 2, 2, 8).products_per_cycle, 8);
        assert_eq!(Fusion::new(8, 8, 2, 8).products_per_cycle, 1);
        assert_eq!(Fusion::new(8, 8, 2, 8).passes, 1);
        // 1-bit operands are padded to pmin.
        assert_eq!(Fusion::new(1, 1, 2, 8).products_per_cycle, 16);
    }

    #[test]
    fn sixteen_bits_run_temporally() {
        let f = Fusion::new(16, 16, 2, 8);
        assert_eq!((f.products_per_cycle, f.passes), (1, 4));
        let f = Fusion::new(16, 2, 2, 8);
        assert_eq!((f.products_per_cycle, f.passes), (4, 2));
    }

    #[test]
    fn matches_paper_speedup_for_all_paper_widths() {
        // Relative rate versus 16×16 must equal min(64, 256/(w·a)).
        let base = Fusion::new(16, 16, 2, 8);
        let base_rate = base.products_per_cycle as f64 / base.passes as f64;
        for a in [2u32, 4, 8, 16] {
            for w in [2u32, 4, 8, 16] {
                let f = Fusion::new(a, w, 2, 8);
                let rate = f.products_per_cycle as f64 / f.passes as f64 / base_rate;
                let paper = (256.0 / f64::from(a * w)).min(64.0);
                assert_eq!(rate, paper, "a={a} w={w}");
            }
        }
    }
}
