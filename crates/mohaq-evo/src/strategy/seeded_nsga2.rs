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
use crate::strategy::sensitivity::{single_layer_sensitivity, MeasuredSensitivity};
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
        let seeded = seed_candidates(&mut evaluator, self.config.pop_size, self.model_sensitivity)?;
        let archive: EvaluationArchive = evaluator.into_archive();
        let seeds = seeded.seeds;
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

/// What the seeding phase leaves: the initial population's candidates, in order of promise, and
/// the single-layer sensitivities it measured.
pub struct Seeded {
    pub seeds: Vec<Genes>,
    pub measured: MeasuredSensitivity,
}

/// The seeding phase shared by the seeded searches: evaluates the uniform configurations, every
/// layer alone at each lower option, then knapsack optima (of the measured sensitivity, and of
/// the model's when `model_sensitivity` and the problem has one) filling `pop_size`.
pub fn seed_candidates<P: LayerwiseProblem>(
    evaluator: &mut BudgetedEvaluator<'_, P>,
    pop_size: usize,
    model_sensitivity: bool,
) -> Result<Seeded, Nsga2Error> {
    let problem = evaluator.problem();
    let uniform = uniform_configurations(problem.space());
    evaluator.evaluate(&uniform)?;
    let measured = single_layer_sensitivity(evaluator)?;
    let options = problem.layer_options();
    let n_genes = problem.space().len();
    let front = knapsack_front(&options, &measured);
    let mut room = pop_size.saturating_sub(evaluator.archive().len());
    let mut optima: Vec<Genes> = Vec::new();
    if model_sensitivity {
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
    // Seeds in order of promise: knapsack optima, uniform configurations, then the rest.
    let mut seeds = optima;
    seeds.extend(uniform);
    seeds.extend(
        evaluator
            .archive()
            .records()
            .iter()
            .map(|r| r.genes.clone()),
    );
    Ok(Seeded { seeds, measured })
}
