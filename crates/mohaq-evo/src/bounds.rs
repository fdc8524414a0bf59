//! How the variation operators treat a gene: float bounds, and rounding for discrete genes.
//!
//! pymoo 0.4's integer operators (`int_sbx`, `int_pm`) run the float operator on bounds widened
//! by almost half a unit on each side and then round, so the end values of a range are as likely
//! as the inner ones. This module holds that rule in one place.

use crate::problem::Variable;

/// How far a discrete gene's float bounds reach past its integer bounds.
const HALF_UNIT: f64 = 0.5 - 1e-9;

/// Bounds and rounding for one gene as seen by SBX and polynomial mutation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OperatorBounds {
    pub lo: f64,
    pub hi: f64,
    discrete: Option<(f64, f64)>,
}

impl OperatorBounds {
    pub fn of(variable: &Variable) -> Self {
        let (lo, hi) = variable.bounds();
        if variable.is_discrete() {
            Self {
                lo: lo - HALF_UNIT,
                hi: hi + HALF_UNIT,
                discrete: Some((lo, hi)),
            }
        } else {
            Self {
                lo,
                hi,
                discrete: None,
            }
        }
    }

    /// Brings an operator's float result back into the variable's domain.
    pub fn finish(&self, x: f64) -> f64 {
        match self.discrete {
            Some((lo, hi)) => x.round().clamp(lo, hi),
            None => x.clamp(self.lo, self.hi),
        }
    }
}
