//! Search strategies behind one interface: given a problem, an evaluation budget and a seed,
//! return the evaluations in the order they were made.
//!
//! One module per strategy, as the NSGA-II operators are: [`random_search`] (uniform, duplicates
//! skipped), [`nsga2_search`] (the engine under a budget, optionally seeded), [`greedy_descent`]
//! (AIMET AMP's greedy curve), [`knapsack_search`] (HAWQ-V3's exact per-budget optimisation of a
//! second-order sensitivity), [`seeded_nsga2`] (sensitivity-seeded NSGA-II) and
//! [`refined_nsga2`] (seeded NSGA-II interleaved with local refinement around the front,
//! [`front_neighbours`]) and [`surrogate_search`] (the default: batches chosen by the
//! hypervolume an [`additive_model`] of the error promises, the cheap objectives exact). [`resumable`] checkpoints and resumes any strategy by replay.
//! Every strategy evaluates through one [`BudgetedEvaluator`], the only place the budget is
//! enforced, so none can exceed it; randomness is drawn in sequential code only, so a seed fixes
//! a run at any thread count. Layer-wise strategies need [`LayerwiseProblem`].

pub mod additive_model;
mod budget;
pub mod front_neighbours;
pub mod greedy_descent;
pub mod knapsack;
pub mod knapsack_search;
pub mod layerwise;
pub mod lookup;
pub mod memo;
pub mod nsga2_search;
pub mod random_search;
pub mod refined_nsga2;
pub mod residual_kriging;
pub mod resumable;
pub mod seeded_nsga2;
pub mod seeds;
pub mod sensitivity;
pub mod surrogate_search;

pub use budget::BudgetedEvaluator;
pub use layerwise::{LayerOption, LayerwiseProblem};

use crate::archive::EvaluationRecord;
use crate::error::Nsga2Error;
use crate::problem::Problem;

/// What a strategy returns: every evaluation it made, in order, each candidate once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StrategyRun {
    pub evaluations: Vec<EvaluationRecord>,
}

impl StrategyRun {
    /// Objective vectors of the feasible evaluations among the first `n` that no other feasible
    /// one among them dominates: the front the strategy would report after `n` evaluations.
    pub fn front_after(&self, n: usize) -> Vec<Vec<f64>> {
        let mut front = crate::pareto_archive::ParetoArchive::new();
        for r in self.evaluations.iter().take(n) {
            if r.evaluation.is_feasible() {
                front.insert(r.evaluation.objectives.clone(), ());
            }
        }
        front.points()
    }

    pub fn len(&self) -> usize {
        self.evaluations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.evaluations.is_empty()
    }
}

/// A search strategy for problems of type `P`.
pub trait Strategy<P: Problem> {
    /// Short name for tables and plots.
    fn name(&self) -> String;

    /// Makes at most `budget` evaluations of `problem` (all of them unless the strategy is done
    /// earlier or the space is exhausted) and returns them in order. Deterministic per `seed`.
    fn run(&self, problem: &P, budget: usize, seed: u64) -> Result<StrategyRun, Nsga2Error>;
}
