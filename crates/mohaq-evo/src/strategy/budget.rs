//! The evaluation budget, enforced in one place: every strategy evaluates through a
//! [`BudgetedEvaluator`], which caches, records the order, and refuses new candidates once the
//! budget is spent.

use crate::archive::EvaluationArchive;
use crate::error::Nsga2Error;
use crate::evaluation::{evaluate_through_cache, within_allowance};
use crate::problem::{Evaluation, Genes, Problem};
use crate::strategy::StrategyRun;

/// A problem behind a cache and a budget of distinct evaluations.
pub struct BudgetedEvaluator<'p, P: Problem> {
    problem: &'p P,
    archive: EvaluationArchive,
    budget: usize,
}

impl<'p, P: Problem> BudgetedEvaluator<'p, P> {
    pub fn new(problem: &'p P, budget: usize) -> Self {
        Self::with_archive(problem, budget, EvaluationArchive::new())
    }

    /// Continues from evaluations already made (they count against the budget).
    pub fn with_archive(problem: &'p P, budget: usize, archive: EvaluationArchive) -> Self {
        Self {
            problem,
            archive,
            budget,
        }
    }

    pub fn problem(&self) -> &'p P {
        self.problem
    }

    /// New evaluations still allowed.
    pub fn remaining(&self) -> usize {
        self.budget.saturating_sub(self.archive.len())
    }

    pub fn is_exhausted(&self) -> bool {
        self.remaining() == 0
    }

    pub fn archive(&self) -> &EvaluationArchive {
        &self.archive
    }

    /// Evaluations of `candidates` in order: each is `Some` if it was evaluated before or now,
    /// `None` if the budget ran out before it. New candidates are evaluated as one parallel
    /// batch, in candidate order.
    pub fn evaluate(
        &mut self,
        candidates: &[Genes],
    ) -> Result<Vec<Option<Evaluation>>, Nsga2Error> {
        let cut = within_allowance(&self.archive, candidates, self.remaining());
        evaluate_through_cache(self.problem, &mut self.archive, &candidates[..cut], 0)?;
        Ok(candidates
            .iter()
            .map(|g| self.archive.get(g).cloned())
            .collect())
    }

    /// One candidate; `None` when the budget is spent and it is not cached.
    pub fn evaluate_one(&mut self, genes: &[f64]) -> Result<Option<Evaluation>, Nsga2Error> {
        Ok(self.evaluate(&[genes.to_vec()])?.pop().flatten())
    }

    pub fn into_archive(self) -> EvaluationArchive {
        self.archive
    }

    pub fn into_run(self) -> StrategyRun {
        StrategyRun {
            evaluations: Vec::from(self.archive),
        }
    }
}
