//! A problem that remembers every evaluation, shared by all strategies and seeds of one
//! comparison: a candidate two runs both visit is evaluated once. Evaluations are pure, so the
//! remembered result is the one evaluating again would give.

use std::sync::Mutex;

use crate::archive::EvaluationArchive;
use crate::problem::{Evaluation, Genes, Problem, Space};
use crate::strategy::{LayerOption, LayerwiseProblem};

/// `inner` behind a shared evaluation cache.
pub struct MemoProblem<'a, P> {
    inner: &'a P,
    cache: Mutex<EvaluationArchive>,
}

impl<'a, P: Problem> MemoProblem<'a, P> {
    pub fn new(inner: &'a P) -> Self {
        Self {
            inner,
            cache: Mutex::new(EvaluationArchive::new()),
        }
    }

    /// Starts from evaluations already made (an archive saved earlier): they are answered
    /// without evaluating.
    pub fn with_cache(inner: &'a P, cache: EvaluationArchive) -> Self {
        Self {
            inner,
            cache: Mutex::new(cache),
        }
    }

    /// Everything remembered so far, in the order it was first evaluated.
    pub fn cache(&self) -> EvaluationArchive {
        self.cache.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Distinct candidates evaluated so far (over all runs).
    pub fn evaluated(&self) -> usize {
        self.cache.lock().map_or(0, |c| c.len())
    }

    fn cached(&self, genes: &[f64]) -> Option<Evaluation> {
        self.cache.lock().ok()?.get(genes).cloned()
    }
}

impl<P: Problem> Problem for MemoProblem<'_, P> {
    type Error = P::Error;

    fn space(&self) -> &Space {
        self.inner.space()
    }

    fn n_objectives(&self) -> usize {
        self.inner.n_objectives()
    }

    fn n_constraints(&self) -> usize {
        self.inner.n_constraints()
    }

    fn evaluate(&self, genes: &[f64]) -> Result<Evaluation, P::Error> {
        let mut results = self.evaluate_batch(&[genes.to_vec()]);
        results.pop().expect("one result per candidate")
    }

    fn evaluate_batch(&self, batch: &[Genes]) -> Vec<Result<Evaluation, P::Error>> {
        let known: Vec<Option<Evaluation>> = batch.iter().map(|g| self.cached(g)).collect();
        let missing: Vec<Genes> = batch
            .iter()
            .zip(&known)
            .filter(|(_, k)| k.is_none())
            .map(|(g, _)| g.clone())
            .collect();
        let mut fresh = self.inner.evaluate_batch(&missing).into_iter();
        let mut results = Vec::with_capacity(batch.len());
        for (genes, k) in batch.iter().zip(known) {
            let result = match k {
                Some(e) => Ok(e),
                None => fresh.next().expect("one result per missing candidate"),
            };
            if let (Ok(e), Ok(mut cache)) = (&result, self.cache.lock()) {
                cache.insert(genes.clone(), e.clone());
            }
            results.push(result);
        }
        results
    }
}

impl<P: LayerwiseProblem> LayerwiseProblem for MemoProblem<'_, P> {
    fn error_objective(&self) -> usize {
        self.inner.error_objective()
    }

    fn layer_options(&self) -> Vec<Vec<LayerOption>> {
        self.inner.layer_options()
    }

    fn second_order_sensitivity(&self) -> Result<Option<Vec<Vec<f64>>>, P::Error> {
        self.inner.second_order_sensitivity()
    }

    fn evaluation_with_error(&self, genes: &[f64], error: f64) -> Option<Evaluation> {
        self.inner.evaluation_with_error(genes, error)
    }
}
