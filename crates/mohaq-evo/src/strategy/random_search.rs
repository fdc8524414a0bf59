//! Random search: candidates drawn uniformly over the gene space, duplicates skipped, until the
//! budget is spent or the space is exhausted.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::duplicates::{GeneKey, GeneKeySet};
use crate::error::Nsga2Error;
use crate::problem::{Genes, Problem};
use crate::sampling::random_genes;
use crate::strategy::{BudgetedEvaluator, Strategy, StrategyRun};

/// Candidates drawn (and then evaluated in parallel) per batch.
const BATCH: usize = 64;

/// Draws allowed per wanted candidate before giving up on finding unseen ones.
const TRIES_PER_CANDIDATE: usize = 1_000;

/// Uniform random search without repeats.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomSearch;

impl<P: Problem> Strategy<P> for RandomSearch {
    fn name(&self) -> String {
        "random".into()
    }

    fn run(&self, problem: &P, budget: usize, seed: u64) -> Result<StrategyRun, Nsga2Error> {
        let space = problem.space();
        let budget = space
            .cardinality()
            .map_or(budget, |c| c.min(budget as u128) as usize);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut evaluator = BudgetedEvaluator::new(problem, budget);
        let mut seen = GeneKeySet::default();
        let mut tries = budget.saturating_mul(TRIES_PER_CANDIDATE);
        while !evaluator.is_exhausted() && tries > 0 {
            let wanted = evaluator.remaining().min(BATCH);
            let mut batch: Vec<Genes> = Vec::with_capacity(wanted);
            while batch.len() < wanted && tries > 0 {
                tries -= 1;
                let g = random_genes(space, &mut rng);
                if seen.insert(GeneKey::of(&g)) {
                    batch.push(g);
                }
            }
            evaluator.evaluate(&batch)?;
        }
        Ok(evaluator.into_run())
    }
}
