//! Greedy sensitivity descent in the style of AIMET AMP: measure each layer's sensitivity by
//! quantizing it alone ([`crate::strategy::sensitivity`]), then start from the most precise
//! candidate and repeatedly lower the layer whose next cheaper option costs the least measured
//! error per unit of cost saved, evaluating every step: a 1-D curve from precise to cheap.
//! Deterministic (ties go to the lower layer index); the seed is unused.

use crate::error::Nsga2Error;
use crate::strategy::layerwise::genes_of_choice;
use crate::strategy::sensitivity::single_layer_sensitivity;
use crate::strategy::{BudgetedEvaluator, LayerOption, LayerwiseProblem, Strategy, StrategyRun};

/// AMP-style greedy descent.
#[derive(Debug, Clone, Copy, Default)]
pub struct GreedyDescent;

/// The cheaper option nearest in cost to option `current` of `layer`, among measured ones.
fn next_cheaper(layer: &[LayerOption], measured: &[Option<f64>], current: usize) -> Option<usize> {
    let now = layer[current].cost;
    (0..layer.len())
        .filter(|&k| measured[k].is_some() && layer[k].cost < now)
        .max_by(|&a, &b| layer[a].cost.total_cmp(&layer[b].cost).then(b.cmp(&a)))
}

impl<P: LayerwiseProblem> Strategy<P> for GreedyDescent {
    fn name(&self) -> String {
        "greedy-amp".into()
    }

    fn run(&self, problem: &P, budget: usize, _seed: u64) -> Result<StrategyRun, Nsga2Error> {
        let mut evaluator = BudgetedEvaluator::new(problem, budget);
        let measured = single_layer_sensitivity(&mut evaluator)?;
        let options = problem.layer_options();
        let n_genes = problem.space().len();
        let mut choice = vec![0usize; options.len()];
        while !evaluator.is_exhausted() {
            let mut best: Option<(f64, usize, usize)> = None;
            for (l, layer) in options.iter().enumerate() {
                let Some(k) = next_cheaper(layer, &measured[l], choice[l]) else {
                    continue;
                };
                let added = (measured[l][k].unwrap_or(0.0) - measured[l][choice[l]].unwrap_or(0.0))
                    .max(0.0);
                let saved = layer[choice[l]].cost - layer[k].cost;
                let score = added / saved;
                if best.is_none_or(|(s, _, _)| score < s) {
                    best = Some((score, l, k));
                }
            }
            let Some((_, l, k)) = best else { break };
            choice[l] = k;
            evaluator.evaluate_one(&genes_of_choice(n_genes, &options, &choice))?;
        }
        Ok(evaluator.into_run())
    }
}
