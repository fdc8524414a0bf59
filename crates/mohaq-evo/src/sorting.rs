//! Fast non-dominated sorting (Deb et al. 2002): splits points into fronts of equal rank.

use crate::dominance::{relation, Relation};

/// Fronts of `points`, best first; each front lists point indices in ascending order.
///
/// Sorting stops once the fronts found hold at least `stop_after` points (pymoo's
/// `n_stop_if_ranked`): survival never looks further. Pass `points.len()` to rank everything.
pub fn non_dominated_fronts(points: &[Vec<f64>], stop_after: usize) -> Vec<Vec<usize>> {
    let n = points.len();
    let mut dominated_by_count = vec![0usize; n];
    // Row i is a bit set of the points i dominates: one allocation instead of one per point.
    let words = n.div_ceil(64);
    let mut dominates_bits = vec![0u64; n * words];
    for i in 0..n {
        for j in (i + 1)..n {
            match relation(&points[i], &points[j]) {
                Relation::Dominates => {
                    dominates_bits[i * words + j / 64] |= 1 << (j % 64);
                    dominated_by_count[j] += 1;
                }
                Relation::Dominated => {
                    dominates_bits[j * words + i / 64] |= 1 << (i % 64);
                    dominated_by_count[i] += 1;
                }
                Relation::Indifferent => {}
            }
        }
    }
    let mut fronts = Vec::new();
    let mut current: Vec<usize> = (0..n).filter(|&i| dominated_by_count[i] == 0).collect();
    let mut ranked = 0;
    while !current.is_empty() {
        ranked += current.len();
        let mut next = Vec::new();
        for &i in &current {
            for (w, &row) in dominates_bits[i * words..(i + 1) * words]
                .iter()
                .enumerate()
            {
                let mut bits = row;
                while bits != 0 {
                    let j = w * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    dominated_by_count[j] -= 1;
                    if dominated_by_count[j] == 0 {
                        next.push(j);
                    }
                }
            }
        }
        next.sort_unstable();
        fronts.push(current);
        if ranked >= stop_after {
            break;
        }
        current = next;
    }
    fronts
}
