//! The default search: NSGA-II whose initial population is chosen, not drawn. It first
//! evaluates the uniform configurations and every layer alone at each lower option (the
//! single-layer sensitivity, as AMP measures it), then the exact knapsack optima of that
//! measured sensitivity taken as additive, spread over the cost range, and seeds the
//! population with all of them; NSGA-II spends the rest of the budget. Every evaluation counts
//! against the budget.

use crate::archive::EvaluationArchive;
use crate::config::Nsga2Config;
use crate::error::Nsga2Error;
use crate::problem::Genes;
use crate::state::Nsga2State;
use crate::strategy::knapsack::{knapsack_front, spread_order};
use crate::strategy::layerwise::genes_of_choice;
use crate::strategy::nsga2_search::Nsga2Search;
use crate::strategy::seeds::uniform_configurations;
use crate::strategy::sensitivity::single_layer_sensitivity;
use crate::strategy::{BudgetedEvaluator, LayerwiseProblem, Strategy, StrategyRun};

/// Sensitivity-seeded NSGA-II.
#[derive(Debug, Clone)]
pub struct SeededNsga2 {
    pub name: String,
    /// NSGA-II settings after seeding (population, offspring, operators; the seed is the run's).
    pub config: Nsga2Config,
    /// Also seed with the knapsack optima of the problem's second-order sensitivity, when it
    /// has one (half of the room left after the uniform and single-layer candidates).
    pub model_sensitivity: bool,
}

impl<P: LayerwiseProblem> Strategy<P> for SeededNsga2 {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn run(&self, problem: &P, budget: usize, seed: u64) -> Result<StrategyRun, Nsga2Error> {
        let mut evaluator = BudgetedEvaluator::new(problem, budget);
        let uniform = uniform_configurations(problem.space());
        evaluator.evaluate(&uniform)?;
        let measured = single_layer_sensitivity(&mut evaluator)?;
        let options = problem.layer_options();
        let n_genes = problem.space().len();
        let front = knapsack_front(&options, &measured);
        let mut room = self
            .config
            .pop_size
            .saturating_sub(evaluator.archive().len());
        let mut optima: Vec<Genes> = Vec::new();
        if self.model_sensitivity {
            if let Ok(Some(model)) = problem.second_order_sensitivity() {
                let model: Vec<Vec<Option<f64>>> = model
                    .iter()
                    .map(|row| row.iter().map(|&s| Some(s)).collect())
                    .collect();
                let model_front = knapsack_front(&options, &model);
                let half = room / 2;
                optima.extend(
                    spread_order(model_front.len(), half)
                        .into_iter()
                        .map(|i| genes_of_choice(n_genes, &options, &model_front[i].choice)),
                );
                room -= half;
            }
        }
        optima.extend(
            spread_order(front.len(), room.max(1))
                .into_iter()
                .map(|i| genes_of_choice(n_genes, &options, &front[i].choice)),
        );
        evaluator.evaluate(&optima)?;
        let archive: EvaluationArchive = evaluator.into_archive();
        // Seeds in order of promise: knapsack optima, uniform configurations, then the rest.
        let mut seeds = optima;
        seeds.extend(uniform);
        seeds.extend(archive.records().iter().map(|r| r.genes.clone()));
        let engine = Nsga2Search {
            name: self.name.clone(),
            config: self.config.clone(),
            seeds,
        };
        let mut state = Nsga2State::new(seed);
        state.archive = archive;
        let state = engine.run_from(problem, budget, seed, state)?;
        Ok(StrategyRun {
            evaluations: Vec::from(state.archive),
        })
    }
}
