//! Random sampling of the initial population.

use rand::Rng;

use crate::problem::{Genes, Space, Variable};

/// One uniformly random candidate: integers and allowed-value indices uniform over their range,
/// reals uniform within their bounds.
pub fn random_genes<R: Rng>(space: &Space, rng: &mut R) -> Genes {
    space
        .variables()
        .iter()
        .map(|v| match v {
            Variable::Integer { lo, hi } => rng.random_range(*lo..=*hi) as f64,
            Variable::Choice { values } => rng.random_range(0..values.len()) as f64,
            Variable::Real { lo, hi } => lo + rng.random::<f64>() * (hi - lo),
        })
        .collect()
}
