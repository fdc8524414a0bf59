//! HAWQ-V3-style search: a model-derived second-order sensitivity per layer option, one exact
//! knapsack optimum per cost budget ([`crate::strategy::knapsack`]), budgets swept over the whole
//! range; each optimum is evaluated once. Deterministic: the seed is unused.

use crate::error::Nsga2Error;
use crate::strategy::knapsack::{knapsack_front, spread_order};
use crate::strategy::layerwise::genes_of_choice;
use crate::strategy::{BudgetedEvaluator, LayerwiseProblem, Strategy, StrategyRun};

/// Evaluates the knapsack optima of the problem's second-order sensitivity, spread over the
/// budgets; fails when the problem has no such sensitivity.
#[derive(Debug, Clone, Copy, Default)]
pub struct KnapsackSearch;

impl<P: LayerwiseProblem> Strategy<P> for KnapsackSearch {
    fn name(&self) -> String {
        "hawq-knapsack".into()
    }

    fn run(&self, problem: &P, budget: usize, _seed: u64) -> Result<StrategyRun, Nsga2Error> {
        let sensitivity = problem
            .second_order_sensitivity()
            .map_err(|e| Nsga2Error::Evaluation {
                generation: 0,
                genes: Vec::new(),
                source: Box::new(e),
            })?
            .ok_or_else(|| {
                Nsga2Error::Config(crate::error::ConfigError::Invalid {
                    field: "problem.second_order_sensitivity",
                    requirement: "available for the knapsack search",
                    value: "none".into(),
                })
            })?;
        let options = problem.layer_options();
        let measured: Vec<Vec<Option<f64>>> = sensitivity
            .iter()
            .map(|row| row.iter().map(|&s| Some(s)).collect())
            .collect();
        let front = knapsack_front(&options, &measured);
        let n_genes = problem.space().len();
        let candidates: Vec<Vec<f64>> = spread_order(front.len(), budget)
            .into_iter()
            .map(|i| genes_of_choice(n_genes, &options, &front[i].choice))
            .collect();
        let mut evaluator = BudgetedEvaluator::new(problem, budget);
        evaluator.evaluate(&candidates)?;
        Ok(evaluator.into_run())
    }
}
