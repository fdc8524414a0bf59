//! Selection, survival and the integer operators on hand-made populations.

use mohaq_evo::crossover::sbx;
use mohaq_evo::mutation::polynomial_mutation;
use mohaq_evo::population::UNRANKED;
use mohaq_evo::selection::tournament;
use mohaq_evo::survival::rank_and_crowding;
use mohaq_evo::{Evaluation, Individual, PmConfig, SbxConfig, Space, SpaceError, Variable};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn member(objectives: [f64; 2], violation: f64, rank: usize, crowding: f64) -> Individual {
    let mut i = Individual::new(
        vec![0.0],
        Evaluation::new(objectives.to_vec(), vec![violation]),
    );
    i.rank = rank;
    i.crowding = crowding;
    i
}

#[test]
fn tournament_prefers_feasible_then_violation_then_rank_then_crowding() {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let pop = vec![
        member([0.0, 0.0], 0.5, UNRANKED, 0.0), // 0: infeasible, CV 0.5
        member([9.0, 9.0], 0.0, 3, 0.0),        // 1: feasible, bad rank
        member([0.0, 0.0], 0.2, UNRANKED, 0.0), // 2: infeasible, CV 0.2
        member([1.0, 1.0], -1.0, 0, 0.1),       // 3: feasible (g < 0), rank 0
        member([1.0, 1.0], 0.0, 0, 0.7),        // 4: feasible, rank 0, more crowding
    ];
    for _ in 0..20 {
        assert_eq!(tournament(&pop, 0, 1, &mut rng), 1);
        assert_eq!(tournament(&pop, 0, 2, &mut rng), 2);
        assert_eq!(tournament(&pop, 1, 3, &mut rng), 3);
        assert_eq!(tournament(&pop, 3, 4, &mut rng), 4);
    }
    // A tie is broken at random: both sides win sometimes.
    let twins = vec![
        member([1.0, 1.0], 0.0, 0, 0.5),
        member([1.0, 1.0], 0.0, 0, 0.5),
    ];
    let wins_of_first = (0..200)
        .filter(|_| tournament(&twins, 0, 1, &mut rng) == 0)
        .count();
    assert!((50..150).contains(&wins_of_first), "{wins_of_first}");
}

#[test]
fn survival_keeps_fronts_then_least_violating() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let pool = vec![
        member([3.0, 3.0], 0.0, 0, 0.0), // feasible, rank 1
        member([1.0, 2.0], 0.0, 0, 0.0), // feasible, rank 0
        member([0.0, 0.0], 0.9, 0, 0.0), // infeasible
        member([2.0, 1.0], 0.0, 0, 0.0), // feasible, rank 0
        member([0.0, 0.0], 0.1, 0, 0.0), // infeasible, less violating
    ];
    let survivors = rank_and_crowding(pool.clone(), 4, &mut rng);
    let objectives: Vec<Vec<f64>> = survivors.iter().map(|s| s.objectives().to_vec()).collect();
    assert_eq!(
        objectives,
        vec![
            vec![1.0, 2.0],
            vec![2.0, 1.0],
            vec![3.0, 3.0],
            vec![0.0, 0.0]
        ]
    );
    assert_eq!(survivors[3].violation(), 0.1);
    assert_eq!(survivors[3].rank, UNRANKED);
    assert_eq!(
        [survivors[0].rank, survivors[1].rank, survivors[2].rank],
        [0, 0, 1]
    );
    // Cutting a front keeps its boundary points (largest crowding) first.
    let front: Vec<Individual> = (0..5)
        .map(|k| member([k as f64, 4.0 - k as f64], 0.0, 0, 0.0))
        .collect();
    let kept = rank_and_crowding(front, 2, &mut rng);
    let mut f1: Vec<f64> = kept.iter().map(|s| s.objectives()[0]).collect();
    f1.sort_by(f64::total_cmp);
    assert_eq!(f1, vec![0.0, 4.0]);
}

#[test]
fn integer_operators_reach_every_allowed_value() {
    let space = Space::repeat(
        Variable::Choice {
            values: vec![4, 8, 16],
        },
        1,
    )
    .unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let crossover = SbxConfig {
        prob: 1.0,
        eta: 3.0,
        prob_per_variable: 0.5,
    };
    let mut counts = [0usize; 3];
    for _ in 0..3000 {
        let (a, b) = sbx(&space, &crossover, &[0.0], &[2.0], &mut rng);
        counts[a[0] as usize] += 1;
        counts[b[0] as usize] += 1;
    }
    // Half the time the variable is not exchanged (children copy 0 and 2); with η = 3 the
    // children of distant parents stay near them, so the middle value is rare (~1.7 %) but
    // reachable.
    assert!(counts.iter().all(|&c| c > 20), "{counts:?}");
    assert!(counts[0] > 1000 && counts[2] > 1000, "{counts:?}");
    let mutation = PmConfig {
        eta: 3.0,
        prob: Some(1.0),
    };
    let mut counts = [0usize; 3];
    for _ in 0..3000 {
        let mut g = vec![1.0];
        polynomial_mutation(&space, &mutation, &mut g, &mut rng);
        counts[g[0] as usize] += 1;
    }
    assert!(counts.iter().all(|&c| c > 100), "{counts:?}");
}

#[test]
fn spaces_are_validated_and_decoded() {
    assert_eq!(Space::new(vec![]), Err(SpaceError::Empty));
    assert_eq!(
        Space::new(vec![Variable::Choice { values: vec![] }]),
        Err(SpaceError::NoChoices { index: 0 })
    );
    assert!(matches!(
        Space::new(vec![Variable::Real { lo: 1.0, hi: 0.0 }]),
        Err(SpaceError::BadBounds { index: 0, .. })
    ));
    let bad: Result<Space, _> = serde_json::from_str(r#"[{"Integer":{"lo":3,"hi":1}}]"#);
    assert!(bad.is_err());
    let space = Space::new(vec![
        Variable::Choice {
            values: vec![2, 4, 8, 16],
        },
        Variable::Integer { lo: -2, hi: 2 },
    ])
    .unwrap();
    assert_eq!(space.decode(&[3.0, -1.0]), vec![16.0, -1.0]);
    assert_eq!(space.encode_value(0, 8.0), Some(2.0));
    assert_eq!(space.encode_value(0, 5.0), None);
    assert_eq!(space.cardinality(), Some(20));
    assert!(space.contains(&[0.0, 2.0]));
    assert!(!space.contains(&[4.0, 0.0]));
    assert!(!space.contains(&[0.5, 0.0]));
}
