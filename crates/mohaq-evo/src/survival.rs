//! Rank-and-crowding survival (NSGA-II), with pymoo 0.4's handling of infeasible members.

use rand::seq::SliceRandom;
use rand::Rng;

use crate::crowding::crowding_distances;
use crate::population::{Individual, UNRANKED};
use crate::sorting::non_dominated_fronts;

/// Keeps `n_survive` members of `pool` and sets their rank and crowding distance.
///
/// Feasible members survive first, front by front; the front that does not fit whole is cut by
/// descending crowding distance, ties broken at random. If fewer than `n_survive` are feasible,
/// the least-violating infeasible members fill the rest.
pub fn rank_and_crowding<R: Rng>(
    pool: Vec<Individual>,
    n_survive: usize,
    rng: &mut R,
) -> Vec<Individual> {
    let (mut feasible, mut infeasible): (Vec<Individual>, Vec<Individual>) =
        pool.into_iter().partition(|i| i.is_feasible());
    let mut survivors = Vec::with_capacity(n_survive);
    let n_feasible = feasible.len().min(n_survive);
    if n_feasible > 0 {
        let points: Vec<Vec<f64>> = feasible.iter().map(|i| i.objectives().to_vec()).collect();
        let fronts = non_dominated_fronts(&points, n_feasible);
        let mut chosen: Vec<usize> = Vec::with_capacity(n_feasible);
        for (rank, front) in fronts.iter().enumerate() {
            let views: Vec<&[f64]> = front.iter().map(|&i| points[i].as_slice()).collect();
            let crowding = crowding_distances(&views);
            for (&i, &c) in front.iter().zip(&crowding) {
                feasible[i].rank = rank;
                feasible[i].crowding = c;
            }
            let room = n_feasible - chosen.len();
            if front.len() <= room {
                chosen.extend(front);
            } else {
                let order = randomized_descending(&crowding, rng);
                chosen.extend(order.into_iter().take(room).map(|k| front[k]));
            }
            if chosen.len() == n_feasible {
                break;
            }
        }
        let mut slots: Vec<Option<Individual>> = feasible.into_iter().map(Some).collect();
        survivors.extend(chosen.into_iter().filter_map(|i| slots[i].take()));
    }
    if survivors.len() < n_survive {
        infeasible.sort_by(|a, b| a.violation().total_cmp(&b.violation()));
        for mut member in infeasible.into_iter().take(n_survive - survivors.len()) {
            member.rank = UNRANKED;
            member.crowding = 0.0;
            survivors.push(member);
        }
    }
    survivors
}

/// Indices of `values` by descending value, ties in random order.
fn randomized_descending<R: Rng>(values: &[f64], rng: &mut R) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.shuffle(rng);
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    order
}
