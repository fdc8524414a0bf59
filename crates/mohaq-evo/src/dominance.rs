//! Pareto dominance between objective vectors (all minimised).

use std::cmp::Ordering;

/// How two objective vectors relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The first is no worse everywhere and better somewhere.
    Dominates,
    /// The second dominates the first.
    Dominated,
    /// Neither dominates (this includes equal vectors).
    Indifferent,
}

/// Compares `a` and `b` in one pass.
pub fn relation(a: &[f64], b: &[f64]) -> Relation {
    let mut a_better = false;
    let mut b_better = false;
    for (x, y) in a.iter().zip(b) {
        match x.partial_cmp(y) {
            Some(Ordering::Less) => a_better = true,
            Some(Ordering::Greater) => b_better = true,
            _ => {}
        }
        if a_better && b_better {
            return Relation::Indifferent;
        }
    }
    match (a_better, b_better) {
        (true, false) => Relation::Dominates,
        (false, true) => Relation::Dominated,
        _ => Relation::Indifferent,
    }
}

/// Whether `a` Pareto-dominates `b`.
pub fn dominates(a: &[f64], b: &[f64]) -> bool {
    relation(a, b) == Relation::Dominates
}

/// Indices of the points no other point dominates (a simple O(n²) filter for moderate sizes).
pub fn non_dominated_indices(points: &[Vec<f64>]) -> Vec<usize> {
    (0..points.len())
        .filter(|&i| !points.iter().any(|q| dominates(q, &points[i])))
        .collect()
}
