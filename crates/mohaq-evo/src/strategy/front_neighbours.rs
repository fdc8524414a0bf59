//! Local refinement around the current front: the unevaluated neighbours of every front member
//! (one or two layers moved one step along their options in cost order), ranked by how far an
//! additive model predicts each to fall below the best error evaluated so far at its cost.
//!
//! Why: a front of a layer-wise space is a staircase whose neighbouring points mostly differ in
//! one or two layers by one width step, so after seeding (uniform configurations, knapsack
//! optima) the points still missing sit next to the ones found. The prediction is the parent's
//! measured error plus the measured single-layer error changes of the moved layers, so it is
//! corrected by every evaluation instead of trusting additivity from the most precise candidate.
//! Deterministic: no randomness, ties broken by the genes.

use std::cmp::Ordering;

use crate::archive::EvaluationArchive;
use crate::duplicates::{GeneKey, GeneKeyMap};
use crate::problem::Genes;
use crate::strategy::layerwise::{cost_of_choice, genes_of_choice};
use crate::strategy::sensitivity::MeasuredSensitivity;
use crate::strategy::LayerOption;

/// The layer structure a refinement needs: options, their cost order and measured sensitivity.
#[derive(Debug, Clone)]
pub struct LayerModel {
    options: Vec<Vec<LayerOption>>,
    /// `[layer][option]`: the options one step cheaper and one step dearer, if any.
    steps: Vec<Vec<[Option<usize>; 2]>>,
    sensitivity: MeasuredSensitivity,
    n_genes: usize,
}

impl LayerModel {
    /// `sensitivity` has the shape of `options` (see
    /// [`crate::strategy::sensitivity::single_layer_sensitivity`]).
    pub fn new(
        options: Vec<Vec<LayerOption>>,
        sensitivity: MeasuredSensitivity,
        n_genes: usize,
    ) -> Self {
        let steps = options
            .iter()
            .map(|layer| {
                let mut order: Vec<usize> = (0..layer.len()).collect();
                order.sort_by(|&a, &b| layer[a].cost.total_cmp(&layer[b].cost).then(a.cmp(&b)));
                let mut steps = vec![[None, None]; layer.len()];
                for (rank, &k) in order.iter().enumerate() {
                    steps[k] = [
                        rank.checked_sub(1).map(|r| order[r]),
                        order.get(rank + 1).copied(),
                    ];
                }
                steps
            })
            .collect();
        Self {
            options,
            steps,
            sensitivity,
            n_genes,
        }
    }

    /// The option index of every layer of `genes`, `None` if some layer matches no option.
    pub fn choice_of(&self, genes: &[f64]) -> Option<Vec<usize>> {
        self.options
            .iter()
            .map(|layer| {
                layer
                    .iter()
                    .position(|o| o.genes.iter().all(|&(g, v)| genes.get(g) == Some(&v)))
            })
            .collect()
    }

    /// Predicted error change of moving `layer` from option `from` to `to` (`None` when either
    /// sensitivity is unmeasured).
    fn delta(&self, layer: usize, from: usize, to: usize) -> Option<f64> {
        let row = &self.sensitivity[layer];
        Some(row[to]? - row[from]?)
    }

    /// Every choice that moves one layer, or two layers, one step each, with the predicted
    /// error change (`None` where unmeasured).
    pub fn neighbours(&self, choice: &[usize]) -> Vec<(Vec<usize>, Option<f64>)> {
        let moves: Vec<(usize, usize)> = choice
            .iter()
            .enumerate()
            .flat_map(|(l, &k)| self.steps[l][k].iter().flatten().map(move |&to| (l, to)))
            .collect();
        let mut out = Vec::new();
        for (i, &(l, to)) in moves.iter().enumerate() {
            let mut one = choice.to_vec();
            one[l] = to;
            let d1 = self.delta(l, choice[l], to);
            for &(m, to2) in &moves[i + 1..] {
                if m == l {
                    continue;
                }
                let mut two = one.clone();
                two[m] = to2;
                let d = d1.zip(self.delta(m, choice[m], to2)).map(|(a, b)| a + b);
                out.push((two, d));
            }
            out.push((one, d1));
        }
        out
    }

    pub fn cost(&self, choice: &[usize]) -> f64 {
        cost_of_choice(&self.options, choice)
    }

    pub fn genes(&self, choice: &[usize]) -> Genes {
        genes_of_choice(self.n_genes, &self.options, choice)
    }
}

/// Least error evaluated at each cost or below: the staircase of feasible evaluations.
struct Staircase {
    /// Sorted by cost; errors strictly falling.
    steps: Vec<(f64, f64)>,
}

impl Staircase {
    fn of(points: impl Iterator<Item = (f64, f64)>) -> Self {
        let mut all: Vec<(f64, f64)> = points.collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let mut steps: Vec<(f64, f64)> = Vec::new();
        for p in all {
            if steps.last().is_none_or(|last| p.1 < last.1) {
                steps.push(p);
            }
        }
        Self { steps }
    }

    /// The least error at cost `cost` or below (+∞ if nothing is that cheap).
    fn best_at(&self, cost: f64) -> f64 {
        let n = self.steps.partition_point(|s| s.0 <= cost);
        n.checked_sub(1).map_or(f64::INFINITY, |i| self.steps[i].1)
    }
}

/// Up to `limit` unevaluated neighbours of the feasible front of `archive`, most promising
/// first: smallest predicted error minus the least error evaluated at that cost or below.
/// Neighbours whose prediction is unmeasured come after all predicted ones.
pub fn ranked_neighbours(
    model: &LayerModel,
    archive: &EvaluationArchive,
    error_objective: usize,
    limit: usize,
) -> Vec<Genes> {
    let feasible = archive
        .records()
        .iter()
        .filter(|r| r.evaluation.is_feasible());
    let staircase = Staircase::of(feasible.filter_map(|r| {
        let choice = model.choice_of(&r.genes)?;
        Some((
            model.cost(&choice),
            r.evaluation.objectives[error_objective],
        ))
    }));
    let mut best: GeneKeyMap<(f64, Genes)> = GeneKeyMap::default();
    for parent in archive.pareto_front() {
        let Some(choice) = model.choice_of(&parent.genes) else {
            continue;
        };
        let error = parent.evaluation.objectives[error_objective];
        for (next, delta) in model.neighbours(&choice) {
            let genes = model.genes(&next);
            if archive.contains(&genes) {
                continue;
            }
            let gap = delta.map_or(f64::INFINITY, |d| {
                error + d - staircase.best_at(model.cost(&next))
            });
            let entry = best
                .entry(GeneKey::of(&genes))
                .or_insert((f64::INFINITY, genes.clone()));
            entry.0 = entry.0.min(gap);
        }
    }
    let mut ranked: Vec<(f64, Genes)> = best.into_values().collect();
    ranked.sort_by(|a, b| {
        a.0.total_cmp(&b.0)
            .then_with(|| a.1.partial_cmp(&b.1).unwrap_or(Ordering::Equal))
    });
    ranked.into_iter().take(limit).map(|(_, g)| g).collect()
}
