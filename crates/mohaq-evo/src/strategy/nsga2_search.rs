//! NSGA-II under an evaluation budget: generations of the unchanged engine until the budget is
//! spent, the last one cut to end on it exactly.

use crate::config::Nsga2Config;
use crate::error::Nsga2Error;
use crate::nsga2::Nsga2;
use crate::problem::{Genes, Problem};
use crate::state::Nsga2State;
use crate::strategy::{Strategy, StrategyRun};

/// Generations in a row without a new evaluation after which the space counts as exhausted.
const MAX_IDLE_GENERATIONS: usize = 20;

/// NSGA-II with fixed settings (the seed comes from [`Strategy::run`]), optionally seeded.
#[derive(Debug, Clone)]
pub struct Nsga2Search {
    pub name: String,
    pub config: Nsga2Config,
    /// Candidates the initial population starts with.
    pub seeds: Vec<Genes>,
}

impl Nsga2Search {
    pub fn new(name: impl Into<String>, config: Nsga2Config) -> Self {
        Self {
            name: name.into(),
            config,
            seeds: Vec::new(),
        }
    }

    /// Runs from `state` (which may already hold evaluations, counted against `budget`) until
    /// `budget` evaluations are made.
    pub fn run_from<P: Problem>(
        &self,
        problem: &P,
        budget: usize,
        seed: u64,
        mut state: Nsga2State,
    ) -> Result<Nsga2State, Nsga2Error> {
        let mut config = self.config.clone();
        config.seed = seed;
        let engine = Nsga2::new(config)?.with_seeds(self.seeds.clone());
        let mut idle = 0;
        while state.n_evaluations() < budget && idle < MAX_IDLE_GENERATIONS {
            let before = state.n_evaluations();
            engine.step_within(problem, &mut state, budget - before)?;
            idle = if state.n_evaluations() == before {
                idle + 1
            } else {
                0
            };
        }
        Ok(state)
    }
}

impl<P: Problem> Strategy<P> for Nsga2Search {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn run(&self, problem: &P, budget: usize, seed: u64) -> Result<StrategyRun, Nsga2Error> {
        let state = self.run_from(problem, budget, seed, Nsga2State::new(seed))?;
        Ok(StrategyRun {
            evaluations: Vec::from(state.archive),
        })
    }
}
