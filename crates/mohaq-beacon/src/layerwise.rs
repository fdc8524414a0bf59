//! The MOHAQ problem as a mohaq-evo [`LayerwiseProblem`], for the sensitivity baselines and the
//! seeded default search: per layer, every (weight, activation) width pair its genes allow, with
//! the layer's additive share of the cost the experiment trades error against.
//!
//! Costs: the paper's speedup is Σ MACs_l·s_l / normaliser, additive over layers, so a layer's
//! cost is −MACs_l·s_l / normaliser (the knapsack is then exact for it); the physical speedup
//! Σ MACs / Σ (MACs_l / s_l) falls as the summed time MACs_l / s_l grows, so that time is the
//! cost there; without a platform the cost is the layer's weight bits (model size).

use mohaq_evo::{Evaluation, LayerOption, LayerwiseProblem, Problem};
use mohaq_hw::SpeedupMode;

use crate::error::ProblemError;
use mohaq_precision::{GeneCodec, Operand};

use crate::genes::LayerBits;
use crate::model::ErrorModel;
use crate::problem::MohaqProblem;

/// Gene indices of layer `l` in `codec`'s order: (weight gene, activation gene); equal for
/// shared genes.
fn genes_of_layer(codec: &GeneCodec, l: usize) -> (usize, usize) {
    let find = |operand: Operand| {
        (0..codec.len()).find(|&g| {
            let m = codec.meaning(g);
            m.layer == l && (m.operand == operand || m.operand == Operand::Both)
        })
    };
    match (find(Operand::Weight), find(Operand::Activation)) {
        (Some(w), Some(a)) => (w, a),
        _ => unreachable!("every layer of a codec has its genes"),
    }
}

impl<M: ErrorModel> MohaqProblem<'_, M> {
    /// The layer's cost at (`weight`, `activation`) bits, lower is cheaper (see the module doc).
    fn layer_cost(&self, l: usize, weight: u32, activation: u32) -> Result<f64, ProblemError> {
        let workload = self.model().workload();
        let layer = &workload.layers()[l];
        match self.platform() {
            Some(p) if self.kind() != crate::ExperimentKind::Compression => {
                let mut bits = LayerBits::uniform_for(workload.layers().len(), 16);
                bits.weight[l] = weight;
                bits.activation[l] = activation;
                let cost = p.evaluate(workload, &bits.pairs())?;
                let s = cost.layers[l].speedup;
                Ok(match p.speedup_objective() {
                    SpeedupMode::Paper => -(layer.macs as f64) * s / workload.normaliser() as f64,
                    SpeedupMode::Physical => layer.macs as f64 / s,
                })
            }
            _ => Ok(layer.weights as f64 * f64::from(weight)),
        }
    }

    /// Per layer, its (weight, activation) options as gene values, most precise first.
    fn layer_width_options(&self) -> Vec<Vec<(usize, usize, u32, u32)>> {
        let vars = self.space().variables();
        let values = |g: usize| -> Vec<i64> {
            match &vars[g] {
                mohaq_evo::Variable::Choice { values } => values.clone(),
                _ => Vec::new(),
            }
        };
        (0..self.codec().table().len())
            .map(|l| {
                let (wg, ag) = genes_of_layer(self.codec(), l);
                let mut options = Vec::new();
                for (wi, &w) in values(wg).iter().enumerate() {
                    if wg == ag {
                        options.push((wi, wi, w as u32, w as u32));
                        continue;
                    }
                    for (ai, &a) in values(ag).iter().enumerate() {
                        options.push((wi, ai, w as u32, a as u32));
                    }
                }
                options.sort_by_key(|o| std::cmp::Reverse((o.2 + o.3, o.2)));
                options
            })
            .collect()
    }
}

impl<M: ErrorModel> LayerwiseProblem for MohaqProblem<'_, M> {
    fn error_objective(&self) -> usize {
        0
    }

    fn layer_options(&self) -> Vec<Vec<LayerOption>> {
        self.layer_width_options()
            .into_iter()
            .enumerate()
            .map(|(l, options)| {
                let (wg, ag) = genes_of_layer(self.codec(), l);
                options
                    .into_iter()
                    .map(|(wi, ai, w, a)| LayerOption {
                        genes: if wg == ag {
                            vec![(wg, wi as f64)]
                        } else {
                            vec![(wg, wi as f64), (ag, ai as f64)]
                        },
                        // A width the platform cannot cost never reaches here: the space
                        // holds only widths the platform runs.
                        cost: self.layer_cost(l, w, a).unwrap_or(f64::INFINITY),
                    })
                    .collect()
            })
            .collect()
    }

    /// The hardware cost is a formula of the widths, so every objective and constraint but the
    /// error is exact without the model (the same [`MohaqProblem::evaluation_of`] a scored
    /// candidate gets).
    fn evaluation_with_error(&self, genes: &[f64], error: f64) -> Option<Evaluation> {
        let bits = self.bits_of(genes).ok()?;
        let cost = self.cost(&bits).ok()?;
        Some(self.evaluation_of(&crate::score::CandidateScore {
            bits,
            error,
            ptq_error: error,
            beacon_error: None,
            beacon: None,
            cost,
        }))
    }

    /// The model's weight and activation sensitivities added per option (zero for 16 bits).
    fn second_order_sensitivity(&self) -> Result<Option<Vec<Vec<f64>>>, ProblemError> {
        let widths = [2, 4, 8, 16];
        let Some(s) = self.model().second_order_sensitivity(&widths)? else {
            return Ok(None);
        };
        let at = |table: &[Vec<f64>], l: usize, bits: u32| -> f64 {
            widths
                .iter()
                .position(|&b| b == bits)
                .and_then(|k| table.get(l).and_then(|row| row.get(k)))
                .copied()
                .unwrap_or(0.0)
        };
        Ok(Some(
            self.layer_width_options()
                .into_iter()
                .enumerate()
                .map(|(l, options)| {
                    options
                        .into_iter()
                        .map(|(_, _, w, a)| at(&s.weight, l, w) + at(&s.activation, l, a))
                        .collect()
                })
                .collect(),
        ))
    }
}
