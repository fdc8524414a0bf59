//! Binary tournament selection of parents (pymoo 0.4's NSGA-II tournament).

use rand::seq::SliceRandom;
use rand::Rng;

use crate::population::Individual;

/// Picks `2 * n_matings` parents by binary tournament and returns them as pairs.
///
/// Competitors come from concatenated random permutations of the population, so every member
/// enters about equally often. A tournament prefers: the smaller constraint violation if either
/// competitor is infeasible; otherwise the lower rank, then the larger crowding distance; a tie
/// is broken at random.
pub fn tournament_pairs<R: Rng>(
    population: &[Individual],
    n_matings: usize,
    rng: &mut R,
) -> Vec<[usize; 2]> {
    let n = population.len();
    let n_competitors = n_matings * 2 * 2;
    let mut competitors = Vec::with_capacity(n_competitors + n);
    while competitors.len() < n_competitors {
        let mut perm: Vec<usize> = (0..n).collect();
        perm.shuffle(rng);
        competitors.extend(perm);
    }
    let winners: Vec<usize> = competitors[..n_competitors]
        .chunks_exact(2)
        .map(|pair| tournament(population, pair[0], pair[1], rng))
        .collect();
    winners.chunks_exact(2).map(|w| [w[0], w[1]]).collect()
}

/// The winner of one binary tournament between `a` and `b`.
pub fn tournament<R: Rng>(population: &[Individual], a: usize, b: usize, rng: &mut R) -> usize {
    let (pa, pb) = (&population[a], &population[b]);
    let (cva, cvb) = (pa.violation(), pb.violation());
    if cva > 0.0 || cvb > 0.0 {
        return if cva < cvb {
            a
        } else if cvb < cva {
            b
        } else {
            random_of(a, b, rng)
        };
    }
    if pa.rank != pb.rank {
        return if pa.rank < pb.rank { a } else { b };
    }
    if pa.crowding > pb.crowding {
        a
    } else if pb.crowding > pa.crowding {
        b
    } else {
        random_of(a, b, rng)
    }
}

fn random_of<R: Rng>(a: usize, b: usize, rng: &mut R) -> usize {
    if rng.random::<bool>() {
        a
    } else {
        b
    }
}
