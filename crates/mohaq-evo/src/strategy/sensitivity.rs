//! Per-layer sensitivity from single-layer quantization (AIMET AMP's first phase): the error of
//! the most precise candidate with one layer lowered, minus the error of the most precise one.

use crate::error::Nsga2Error;
use crate::strategy::layerwise::genes_of_choice;
use crate::strategy::{BudgetedEvaluator, LayerwiseProblem};

/// `[layer][option]`: the error increase of that layer alone at that option (0 for option 0);
/// `None` where the budget ran out before it was measured.
pub type MeasuredSensitivity = Vec<Vec<Option<f64>>>;

/// Evaluates the all-most-precise candidate, then every layer alone at each of its other options
/// (every layer's option 1 first, then option 2, ...: the nearest steps are measured first when
/// the budget is short).
pub fn single_layer_sensitivity<P: LayerwiseProblem>(
    evaluator: &mut BudgetedEvaluator<'_, P>,
) -> Result<MeasuredSensitivity, Nsga2Error> {
    let problem = evaluator.problem();
    let options = problem.layer_options();
    let n_genes = problem.space().len();
    let error = problem.error_objective();
    let base_choice = vec![0; options.len()];
    let mut table: MeasuredSensitivity = options.iter().map(|l| vec![None; l.len()]).collect();
    let Some(base) = evaluator.evaluate_one(&genes_of_choice(n_genes, &options, &base_choice))?
    else {
        return Ok(table);
    };
    let base_error = base.objectives[error];
    for row in &mut table {
        row[0] = Some(0.0);
    }
    let widest = options.iter().map(Vec::len).max().unwrap_or(0);
    // `k` is an option index of every layer at once, not an index into one row.
    #[allow(clippy::needless_range_loop)]
    for k in 1..widest {
        let singles: Vec<(usize, Vec<f64>)> = options
            .iter()
            .enumerate()
            .filter(|(_, l)| k < l.len())
            .map(|(layer, _)| {
                let mut choice = base_choice.clone();
                choice[layer] = k;
                (layer, genes_of_choice(n_genes, &options, &choice))
            })
            .collect();
        let genes: Vec<Vec<f64>> = singles.iter().map(|(_, g)| g.clone()).collect();
        let evaluated = evaluator.evaluate(&genes)?;
        for ((layer, _), e) in singles.iter().zip(evaluated) {
            table[*layer][k] = e.map(|e| e.objectives[error] - base_error);
        }
    }
    Ok(table)
}
