//! "% of the maximum possible speedup / energy saving" (HARDWARE.md §2). The paper does not say
//! how it computed these, so both plausible readings are offered:
//! - `of_gain`: the share of the possible improvement over the 16-bit baseline that a solution
//!   achieves, (S − S_16)/(S_max − S_16) and (E_16 − E)/(E_16 − E_min);
//! - `of_best`: the ratio to the best value, S/S_max and E_min/E.

use serde::Serialize;

/// Both readings of one percentage, as fractions (0.97 = 97 %).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ShareOfMaximum {
    pub of_gain: f64,
    pub of_best: f64,
}

impl ShareOfMaximum {
    /// Speedup `s` against the baseline `s_base` and the maximum `s_max` (higher is better).
    pub fn speedup(s: f64, s_base: f64, s_max: f64) -> Self {
        ShareOfMaximum {
            of_gain: (s - s_base) / (s_max - s_base),
            of_best: s / s_max,
        }
    }

    /// Energy `e` against the baseline `e_base` and the minimum `e_min` (lower is better).
    pub fn energy_saving(e: f64, e_base: f64, e_min: f64) -> Self {
        ShareOfMaximum {
            of_gain: (e_base - e) / (e_base - e_min),
            of_best: e_min / e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extremes_map_to_zero_and_one() {
        let best = ShareOfMaximum::speedup(4.0, 1.0, 4.0);
        assert_eq!((best.of_gain, best.of_best), (1.0, 1.0));
        let base = ShareOfMaximum::speedup(1.0, 1.0, 4.0);
        assert_eq!((base.of_gain, base.of_best), (0.0, 0.25));
        let e = ShareOfMaximum::energy_saving(10.0, 10.0, 2.0);
        assert_eq!((e.of_gain, e.of_best), (0.0, 0.2));
        let e = ShareOfMaximum::energy_saving(4.0, 10.0, 2.0);
        assert_eq!((e.of_gain, e.of_best), (0.75, 0.5));
    }
}
