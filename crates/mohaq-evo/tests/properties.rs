//! Property tests of the numeric kernels against naive definitions.

use mohaq_evo::crossover::sbx;
use mohaq_evo::dominance::dominates;
use mohaq_evo::mutation::polynomial_mutation;
use mohaq_evo::sampling::random_genes;
use mohaq_evo::sorting::non_dominated_fronts;
use mohaq_evo::{hypervolume, hypervolume_by_slicing, PmConfig, SbxConfig, Space, Variable};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Fronts by the definition: peel off the points nothing left dominates, repeatedly.
fn naive_fronts(points: &[Vec<f64>]) -> Vec<Vec<usize>> {
    let mut left: Vec<usize> = (0..points.len()).collect();
    let mut fronts = Vec::new();
    while !left.is_empty() {
        let front: Vec<usize> = left
            .iter()
            .copied()
            .filter(|&i| !left.iter().any(|&j| dominates(&points[j], &points[i])))
            .collect();
        left.retain(|i| !front.contains(i));
        fronts.push(front);
    }
    fronts
}

/// Hypervolume by inclusion–exclusion over all subsets (exact, exponential; small sets only).
fn inclusion_exclusion(points: &[Vec<f64>], reference: &[f64]) -> f64 {
    let n = points.len();
    let mut total = 0.0;
    for mask in 1u32..(1 << n) {
        let mut corner = vec![f64::NEG_INFINITY; reference.len()];
        for (i, p) in points.iter().enumerate() {
            if mask & (1 << i) != 0 {
                for (c, &x) in corner.iter_mut().zip(p) {
                    *c = c.max(x);
                }
            }
        }
        let volume: f64 = corner
            .iter()
            .zip(reference)
            .map(|(c, r)| (r - c).max(0.0))
            .product();
        if mask.count_ones() % 2 == 1 {
            total += volume;
        } else {
            total -= volume;
        }
    }
    total
}

/// Points on a coarse grid so that ties and duplicates are common.
fn grid_points(dims: usize, max_len: usize) -> impl Strategy<Value = Vec<Vec<f64>>> {
    prop::collection::vec(
        prop::collection::vec((0u8..8).prop_map(|v| v as f64 / 8.0), dims),
        0..max_len,
    )
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

fn variable() -> impl Strategy<Value = Variable> {
    prop_oneof![
        (-5i64..5, 0i64..6).prop_map(|(lo, w)| Variable::Integer { lo, hi: lo + w }),
        prop::collection::vec(-20i64..20, 1..5).prop_map(|values| Variable::Choice { values }),
        (-3.0f64..3.0, 0.0f64..4.0).prop_map(|(lo, w)| Variable::Real { lo, hi: lo + w }),
    ]
}

proptest! {
    #[test]
    fn fast_sort_matches_definition(points in (1usize..4).prop_flat_map(|d| grid_points(d, 40))) {
        let fast = non_dominated_fronts(&points, points.len());
        prop_assert_eq!(fast, naive_fronts(&points));
    }

    #[test]
    fn hv_3d_sweep_equals_slicing(points in grid_points(3, 30)) {
        let reference = [1.05, 1.1, 1.2];
        let sweep = hypervolume(&points, &reference).unwrap();
        let slicing = hypervolume_by_slicing(&points, &reference).unwrap();
        prop_assert!(close(sweep, slicing), "sweep {} slicing {}", sweep, slicing);
    }

    #[test]
    fn hv_equals_inclusion_exclusion(points in (2usize..5).prop_flat_map(|d| grid_points(d, 9))) {
        let reference: Vec<f64> = (0..points.first().map_or(2, |p| p.len())).map(|k| 1.0 + 0.1 * k as f64).collect();
        let points: Vec<Vec<f64>> = points.into_iter().filter(|p| p.len() == reference.len()).collect();
        let exact = inclusion_exclusion(&points, &reference);
        let fast = hypervolume(&points, &reference).unwrap();
        let slicing = hypervolume_by_slicing(&points, &reference).unwrap();
        prop_assert!(close(fast, exact), "fast {} exact {}", fast, exact);
        prop_assert!(close(slicing, exact), "slicing {} exact {}", slicing, exact);
    }

    #[test]
    fn operators_stay_in_the_space(
        variables in prop::collection::vec(variable(), 1..8),
        seed in any::<u64>(),
        eta in 0.5f64..30.0,
    ) {
        let space = Space::new(variables).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let sbx_config = SbxConfig { prob: 1.0, eta, prob_per_variable: 0.5 };
        let pm_config = PmConfig { eta, prob: Some(0.5) };
        for _ in 0..20 {
            let a = random_genes(&space, &mut rng);
            let b = random_genes(&space, &mut rng);
            prop_assert!(space.contains(&a) && space.contains(&b));
            let (mut c1, mut c2) = sbx(&space, &sbx_config, &a, &b, &mut rng);
            prop_assert!(space.contains(&c1), "sbx child {:?}", c1);
            prop_assert!(space.contains(&c2), "sbx child {:?}", c2);
            polynomial_mutation(&space, &pm_config, &mut c1, &mut rng);
            polynomial_mutation(&space, &pm_config, &mut c2, &mut rng);
            prop_assert!(space.contains(&c1), "mutant {:?}", c1);
            prop_assert!(space.contains(&c2), "mutant {:?}", c2);
        }
    }
}
