//! Starting candidates for a search: the uniform configurations (every gene at its k-th value).

use crate::problem::{Genes, Space};

/// For each k, the candidate with every gene at its k-th value (genes with fewer values at
/// their last one), from all-lowest to all-highest; real genes take their lower bound.
pub fn uniform_configurations(space: &Space) -> Vec<Genes> {
    let widest = space
        .variables()
        .iter()
        .filter_map(|v| v.cardinality())
        .max()
        .unwrap_or(1)
        .min(64) as usize;
    (0..widest)
        .map(|k| {
            space
                .variables()
                .iter()
                .map(|v| {
                    let (lo, hi) = v.bounds();
                    if v.is_discrete() {
                        (lo + k as f64).min(hi)
                    } else {
                        lo
                    }
                })
                .collect()
        })
        .collect()
}
