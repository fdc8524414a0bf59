//! Exhaustive enumeration gives the true front, and NSGA-II's archive is checked against it.

use std::convert::Infallible;

use mohaq_evo::dominance::dominates;
use mohaq_evo::{
    enumerate_space, exhaustive_front, recovered_count, Evaluation, EvaluationArchive, Nsga2,
    Nsga2Config, Problem, Silent, Space, SpaceError, Variable,
};

/// Three levels per gene (SiLago's {4, 8, 16}); a trade-off between an "error" and a "cost"
/// with a budget constraint.
struct ThreeLevels {
    space: Space,
}

impl ThreeLevels {
    fn new(n: usize) -> Self {
        Self {
            space: Space::repeat(
                Variable::Choice {
                    values: vec![4, 8, 16],
                },
                n,
            )
            .unwrap(),
        }
    }
}

impl Problem for ThreeLevels {
    type Error = Infallible;
    fn space(&self) -> &Space {
        &self.space
    }
    fn n_objectives(&self) -> usize {
        2
    }
    fn n_constraints(&self) -> usize {
        1
    }
    fn evaluate(&self, genes: &[f64]) -> Result<Evaluation, Infallible> {
        let bits = self.space.decode(genes);
        let error: f64 = bits
            .iter()
            .enumerate()
            .map(|(i, b)| (2.0 + i as f64) / b)
            .sum();
        let cost: f64 = bits
            .iter()
            .enumerate()
            .map(|(i, b)| b * (1.0 + (i % 2) as f64))
            .sum();
        Ok(Evaluation::new(vec![error, cost], vec![error - 4.0]))
    }
}

#[test]
fn enumeration_covers_the_space_in_order() {
    let space = Space::new(vec![
        Variable::Integer { lo: -1, hi: 0 },
        Variable::Choice {
            values: vec![2, 4, 8],
        },
    ])
    .unwrap();
    let all = enumerate_space(&space, 100).unwrap();
    assert_eq!(
        all,
        vec![
            vec![-1.0, 0.0],
            vec![-1.0, 1.0],
            vec![-1.0, 2.0],
            vec![0.0, 0.0],
            vec![0.0, 1.0],
            vec![0.0, 2.0]
        ]
    );
    assert_eq!(
        enumerate_space(&space, 5),
        Err(SpaceError::TooLarge { size: 6, limit: 5 })
    );
    let real = Space::new(vec![Variable::Real { lo: 0.0, hi: 1.0 }]).unwrap();
    assert_eq!(
        enumerate_space(&real, 100),
        Err(SpaceError::NotDiscrete { index: 0 })
    );
}

#[test]
fn exhaustive_front_is_the_true_front_and_nsga2_recovers_part_of_it() {
    let problem = ThreeLevels::new(8);
    let mut archive = EvaluationArchive::new();
    let mut calls = 0;
    let front = exhaustive_front(&problem, &mut archive, 10_000, 1000, |done, _, so_far| {
        calls += 1;
        // The archive handed to the callback already holds every candidate done so far.
        assert_eq!(so_far.len(), done);
    })
    .unwrap();
    assert_eq!(archive.len(), 6561);
    assert_eq!(calls, 7);
    // Definition: feasible, and no feasible candidate dominates it; and nothing else qualifies.
    let feasible: Vec<&Vec<f64>> = archive
        .records()
        .iter()
        .filter(|r| r.evaluation.is_feasible())
        .map(|r| &r.evaluation.objectives)
        .collect();
    let expected: Vec<&Vec<f64>> = feasible
        .iter()
        .copied()
        .filter(|p| !feasible.iter().any(|q| dominates(q, p)))
        .collect();
    assert!(!front.is_empty());
    assert_eq!(front.len(), expected.len());
    for record in &front {
        assert!(expected.contains(&&record.evaluation.objectives));
    }
    // A second pass reuses the archive and evaluates nothing new.
    let again = exhaustive_front(&problem, &mut archive, 10_000, 4096, |_, _, _| {}).unwrap();
    assert_eq!(again, front);
    assert_eq!(archive.len(), 6561);

    // NSGA-II with the authors' SiLago budget: its archive front is never better than the truth.
    let outcome = Nsga2::new(Nsga2Config::mohaq_authors(15))
        .unwrap()
        .run(&problem, &mut Silent)
        .unwrap();
    let found: Vec<Vec<f64>> = outcome
        .state
        .archive
        .pareto_front()
        .iter()
        .map(|r| r.evaluation.objectives.clone())
        .collect();
    let truth: Vec<Vec<f64>> = front
        .iter()
        .map(|r| r.evaluation.objectives.clone())
        .collect();
    for f in &found {
        assert!(!truth.iter().any(|t| dominates(f, t)));
    }
    let recovered = recovered_count(&truth, &found);
    assert!(recovered > 0 && recovered <= truth.len());
}
