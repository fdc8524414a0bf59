//! The default search: the seeding of [`crate::strategy::seeded_nsga2`] (uniform
//! configurations, single-layer sensitivities, knapsack optima), then NSGA-II generations
//! interleaved with local refinement batches ([`crate::strategy::front_neighbours`]): after
//! each generation, the most promising unevaluated neighbours of the front so far are evaluated
//! and offered to the population through the usual rank-and-crowding survival.
//!
//! Why both: the neighbours fill the gaps of a staircase front quickly but only where a front
//! point already is; NSGA-II's recombination keeps finding new regions. Every decision depends
//! only on the evaluations so far, never on the budget, so a run at a smaller budget is a prefix
//! of a run at a larger one (and a resumed run replays the same sequence). Randomness is the
//! NSGA-II generator's, drawn in sequential code only.

use crate::config::Nsga2Config;
use crate::error::Nsga2Error;
use crate::evaluation::{evaluate_through_cache, within_allowance};
use crate::nsga2::Nsga2;
use crate::population::Individual;
use crate::state::Nsga2State;
use crate::strategy::front_neighbours::{ranked_neighbours, LayerModel};
use crate::strategy::seeded_nsga2::seed_candidates;
use crate::strategy::{BudgetedEvaluator, LayerwiseProblem, Strategy, StrategyRun};
use crate::survival::rank_and_crowding;

/// Rounds in a row without a new evaluation after which the space counts as exhausted.
const MAX_IDLE_ROUNDS: usize = 20;

/// Seeded NSGA-II with local refinement around the front.
#[derive(Debug, Clone)]
pub struct RefinedNsga2 {
    pub name: String,
    /// NSGA-II settings (population, offspring, operators; the seed is the run's).
    pub config: Nsga2Config,
    /// Seed with the knapsack optima of the problem's second-order sensitivity too.
    pub model_sensitivity: bool,
    /// Neighbours evaluated after each generation.
    pub local_batch: usize,
}

impl RefinedNsga2 {
    /// The default settings for a population and offspring count: the MOHAQ authors'
    /// operators, no model sensitivity, one refinement batch per generation as large as its
    /// offspring. (`n_gen` and the seed of `config` are unused: the budget and the run's seed
    /// decide.)
    pub fn with_population(name: impl Into<String>, pop_size: usize, n_offsprings: usize) -> Self {
        let mut config = Nsga2Config::mohaq_authors(1);
        config.pop_size = pop_size;
        config.n_offsprings = n_offsprings;
        config.seed = 0;
        Self {
            name: name.into(),
            config,
            model_sensitivity: false,
            local_batch: n_offsprings,
        }
    }
}

impl<P: LayerwiseProblem> Strategy<P> for RefinedNsga2 {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn run(&self, problem: &P, budget: usize, seed: u64) -> Result<StrategyRun, Nsga2Error> {
        // Seeding spends at most one population's worth: a space with many options per layer
        // (Bit Fusion's 16 width pairs) would otherwise spend a small budget on single-layer
        // measurements alone; options left unmeasured are refined last.
        let mut evaluator = BudgetedEvaluator::new(problem, budget.min(self.config.pop_size));
        let seeded = seed_candidates(&mut evaluator, self.config.pop_size, self.model_sensitivity)?;
        let mut state = Nsga2State::new(seed);
        state.archive = evaluator.into_archive();
        let model = LayerModel::new(
            problem.layer_options(),
            seeded.measured,
            problem.space().len(),
        );
        let mut config = self.config.clone();
        config.seed = seed;
        let engine = Nsga2::new(config)?.with_seeds(seeded.seeds);
        let error = problem.error_objective();
        let mut idle = 0;
        while state.n_evaluations() < budget && idle < MAX_IDLE_ROUNDS {
            let before = state.n_evaluations();
            engine.step_within(problem, &mut state, budget - before)?;
            let candidates = ranked_neighbours(&model, &state.archive, error, self.local_batch);
            let cut = within_allowance(
                &state.archive,
                &candidates,
                budget.saturating_sub(state.n_evaluations()),
            );
            let evaluated = evaluate_through_cache(
                problem,
                &mut state.archive,
                &candidates[..cut],
                state.generation,
            )?;
            if cut > 0 {
                let mut pool = std::mem::take(&mut state.population);
                pool.extend(
                    candidates
                        .into_iter()
                        .zip(evaluated.evaluations)
                        .map(|(g, e)| Individual::new(g, e)),
                );
                let n_survive = self.config.pop_size.min(pool.len());
                state.population = rank_and_crowding(pool, n_survive, &mut state.rng);
            }
            idle = if state.n_evaluations() == before {
                idle + 1
            } else {
                0
            };
        }
        Ok(StrategyRun {
            evaluations: Vec::from(state.archive),
        })
    }
}
