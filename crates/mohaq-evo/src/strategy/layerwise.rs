//! What layer-wise strategies (sensitivity descent, knapsack) need beyond [`Problem`]: the genes
//! grouped by layer, an additive cost per layer option, and which objective is the error.

use crate::problem::{Evaluation, Problem};

/// One way to quantize one layer: values for that layer's genes and its additive cost.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerOption {
    /// `(gene index, gene)` for every gene of the layer (genes as the engine stores them).
    pub genes: Vec<(usize, f64)>,
    /// This layer's share of the cost the search trades error against; the total cost of a
    /// candidate is the sum over layers, lower is cheaper (it may be negative, e.g. −speedup).
    pub cost: f64,
}

/// A problem whose candidates are one option per layer.
pub trait LayerwiseProblem: Problem {
    /// Index of the objective that measures error (minimised).
    fn error_objective(&self) -> usize;

    /// Per layer, its options; the first is the most precise (the reference of single-layer
    /// sensitivities). Every layer's genes together cover the space once.
    fn layer_options(&self) -> Vec<Vec<LayerOption>>;

    /// A model-derived sensitivity per layer option (same shape as
    /// [`LayerwiseProblem::layer_options`]), larger meaning more error, costing no evaluations:
    /// a Hessian-trace or Fisher estimate times the quantization perturbation. `None` when the
    /// model cannot give one.
    fn second_order_sensitivity(&self) -> Result<Option<Vec<Vec<f64>>>, Self::Error> {
        Ok(None)
    }

    /// The evaluation `genes` would get if its error objective were `error`: every other
    /// objective and every constraint computed exactly, without evaluating the model (in MOHAQ
    /// the hardware cost is a formula and only the error needs the model). The
    /// surrogate-assisted search predicts the error and asks this for the rest. `None` when the
    /// problem cannot tell the error from the rest cheaply.
    fn evaluation_with_error(&self, _genes: &[f64], _error: f64) -> Option<Evaluation> {
        None
    }
}

/// The genes of the candidate that takes option `choice[l]` at every layer `l`.
pub fn genes_of_choice(n_genes: usize, options: &[Vec<LayerOption>], choice: &[usize]) -> Vec<f64> {
    let mut genes = vec![0.0; n_genes];
    for (layer, &k) in options.iter().zip(choice) {
        for &(g, v) in &layer[k].genes {
            genes[g] = v;
        }
    }
    genes
}

/// Total cost of a choice of options.
pub fn cost_of_choice(options: &[Vec<LayerOption>], choice: &[usize]) -> f64 {
    options.iter().zip(choice).map(|(l, &k)| l[k].cost).sum()
}
