//! What one evaluated candidate scored: its widths, errors and hardware cost. Shared by the
//! problem (which computes it) and the beacon search (which refines it), so neither needs the
//! other's internals.

use serde::{Deserialize, Serialize};

use crate::genes::LayerBits;

/// Hardware cost of one candidate, as the report shows it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CostSummary {
    pub size_mb: f64,
    /// The platform's speedup objective (paper or physical formula, as the platform says).
    pub speedup: Option<f64>,
    /// The latency ratio, beside the paper's formula.
    pub speedup_physical: Option<f64>,
    pub energy_uj: Option<f64>,
}

/// Everything known about one evaluated candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateScore {
    pub bits: LayerBits,
    /// The error the search used: min(PTQ error, beacon error).
    pub error: f64,
    /// PTQ error on the base model.
    pub ptq_error: f64,
    /// PTQ error on the nearest beacon's retrained weights, when the candidate was promising.
    pub beacon_error: Option<f64>,
    /// The beacon the candidate was scored with (0 = the base model).
    pub beacon: Option<usize>,
    pub cost: CostSummary,
}

impl CandidateScore {
    /// Whether the beacon's weights gave the reported error (then the test evaluation uses them).
    pub fn uses_beacon_weights(&self) -> Option<usize> {
        match (self.beacon, self.beacon_error) {
            (Some(b), Some(e)) if b > 0 && e < self.ptq_error => Some(b),
            _ => None,
        }
    }
}
