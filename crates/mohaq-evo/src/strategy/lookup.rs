//! A problem answered from an archive of evaluations already made (an exhaustive enumeration,
//! say): strategies can then be compared at many budgets and seeds without evaluating the model
//! again. Evaluations are pure functions of the genes, so a lookup returns exactly (bit for bit)
//! what evaluating would; a candidate missing from the archive is an error, never a guess.

use thiserror::Error;

use crate::archive::EvaluationArchive;
use crate::problem::{Evaluation, Problem, Space};
use crate::strategy::{LayerOption, LayerwiseProblem};

/// Why a lookup failed.
#[derive(Debug, Error)]
pub enum LookupError {
    #[error("genes {genes:?} are not in the archive of evaluations")]
    Missing { genes: Vec<f64> },
    #[error("the underlying problem: {0}")]
    Inner(String),
}

/// `inner`'s space, objectives and layer structure, with evaluations read from `archive`.
pub struct LookupProblem<'a, P> {
    inner: &'a P,
    archive: &'a EvaluationArchive,
}

impl<'a, P: Problem> LookupProblem<'a, P> {
    pub fn new(inner: &'a P, archive: &'a EvaluationArchive) -> Self {
        Self { inner, archive }
    }
}

impl<P: Problem> Problem for LookupProblem<'_, P> {
    type Error = LookupError;

    fn space(&self) -> &Space {
        self.inner.space()
    }

    fn n_objectives(&self) -> usize {
        self.inner.n_objectives()
    }

    fn n_constraints(&self) -> usize {
        self.inner.n_constraints()
    }

    fn evaluate(&self, genes: &[f64]) -> Result<Evaluation, LookupError> {
        self.archive
            .get(genes)
            .cloned()
            .ok_or_else(|| LookupError::Missing {
                genes: genes.to_vec(),
            })
    }
}

impl<P: LayerwiseProblem> LayerwiseProblem for LookupProblem<'_, P> {
    fn error_objective(&self) -> usize {
        self.inner.error_objective()
    }

    fn layer_options(&self) -> Vec<Vec<LayerOption>> {
        self.inner.layer_options()
    }

    fn second_order_sensitivity(&self) -> Result<Option<Vec<Vec<f64>>>, LookupError> {
        self.inner
            .second_order_sensitivity()
            .map_err(|e| LookupError::Inner(e.to_string()))
    }

    fn evaluation_with_error(&self, genes: &[f64], error: f64) -> Option<Evaluation> {
        self.inner.evaluation_with_error(genes, error)
    }
}
