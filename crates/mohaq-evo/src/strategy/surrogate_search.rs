//! The default search: surrogate-assisted. The objectives other than the error are exact and
//! free ([`LayerwiseProblem::evaluation_with_error`]); only the error needs an evaluation. So
//! the error is predicted by an additive model ([`crate::strategy::additive_model`]) fitted to
//! every evaluation so far, and each round evaluates the batch that most improves the
//! hypervolume of the front that the predictions promise.
//!
//! A run: evaluate the uniform configurations and every gene alone at each other value (nearest
//! values first, at most `seed_limit` of them), then rounds of: refit; predict every candidate
//! of the pool (the whole space when it has at most `enumeration_limit` candidates, otherwise
//! the one- and two-gene moves of the front plus random draws); drop those infeasible even with
//! the optimistic error `mean − exploration·std`; pick greedily the candidate whose optimistic
//! objectives add the most hypervolume to the current front, adding its mean prediction to the
//! front before the next pick (so one batch spreads out); when no candidate adds any, the one
//! whose error is nearest to what would make it non-dominated. Decisions depend only on the
//! evaluations so far, never on the budget, so a run at a smaller budget is a prefix of one at a
//! larger budget and a replayed run asks for the same candidates. Randomness (the pool of a
//! large space) is drawn in sequential code from the run's seed.
//!
//! A problem without cheap objectives, or with real genes, is searched by the seeded NSGA-II.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::archive::EvaluationArchive;
use crate::config::Nsga2Config;
use crate::dominance::dominates;
use crate::duplicates::{GeneKey, GeneKeySet};
use crate::error::Nsga2Error;
use crate::exhaustive::enumerate_space;
use crate::hypervolume::hypervolume;
use crate::pareto_archive::ParetoArchive;
use crate::problem::{Genes, Space};
use crate::quality::reference_point;
use crate::sampling::random_genes;
use crate::strategy::additive_model::{AdditiveModel, OneHot};
use crate::strategy::layerwise::genes_of_choice;
use crate::strategy::residual_kriging::ResidualKriging;
use crate::strategy::seeded_nsga2::SeededNsga2;
use crate::strategy::seeds::uniform_configurations;
use crate::strategy::{BudgetedEvaluator, LayerwiseProblem, Strategy, StrategyRun};

/// Widest one-hot encoding the model fits (features = 1 + Σ values per gene).
const MAX_FEATURES: usize = 512;

/// The surrogate-assisted search and its settings.
#[derive(Debug, Clone)]
pub struct SurrogateSearch {
    pub name: String,
    /// Evaluations spent at most on the uniform configurations and single-gene probes.
    pub seed_limit: usize,
    /// Evaluations per round between refits, at least; rounds grow to a
    /// `1 / batch_growth` share of the evaluations made, so a long run refits less often.
    pub batch: usize,
    pub batch_growth: usize,
    /// Candidates are judged by their predicted error minus `exploration` × its uncertainty.
    pub exploration: f64,
    /// Spaces of at most this many candidates are predicted whole.
    pub enumeration_limit: u128,
    /// Random candidates added to the pool of a larger space each round.
    pub random_pool: usize,
    /// Correct the additive model by kriging its residuals while at most this many
    /// evaluations are made (the system grows with their square); 0 never.
    pub kriging_limit: usize,
    /// Judge candidates by their expected hypervolume gain over the predicted error
    /// distribution (5-point Gauss–Hermite) instead of the gain at the optimistic error.
    pub expected_gain: bool,
    /// The search used where the problem gives no cheap objectives.
    pub fallback: SeededNsga2,
}

impl SurrogateSearch {
    /// The default settings; `pop_size` and `n_offsprings` are the fallback's.
    pub fn with_population(name: impl Into<String>, pop_size: usize, n_offsprings: usize) -> Self {
        let name = name.into();
        let mut config = Nsga2Config::mohaq_authors(1);
        config.pop_size = pop_size;
        config.n_offsprings = n_offsprings;
        Self {
            fallback: SeededNsga2 {
                name: name.clone(),
                config,
                model_sensitivity: false,
            },
            name,
            seed_limit: pop_size,
            batch: 2,
            batch_growth: 50,
            exploration: 1.0,
            enumeration_limit: 50_000,
            random_pool: 500,
            kriging_limit: 600,
            expected_gain: true,
        }
    }
}

impl<P: LayerwiseProblem> Strategy<P> for SurrogateSearch {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn run(&self, problem: &P, budget: usize, seed: u64) -> Result<StrategyRun, Nsga2Error> {
        let space = problem.space();
        let probes = probe_candidates(problem);
        let cheap = probes
            .first()
            .is_some_and(|g| problem.evaluation_with_error(g, 0.0).is_some());
        let Some(encoding) = OneHot::of(space, MAX_FEATURES).filter(|_| cheap) else {
            return self.fallback.run(problem, budget, seed);
        };
        let mut evaluator = BudgetedEvaluator::new(problem, budget);
        let seeding: Vec<Genes> = probes.into_iter().take(self.seed_limit).collect();
        evaluator.evaluate(&seeding)?;
        let whole = match space.cardinality() {
            Some(n) if n <= self.enumeration_limit => {
                Some(enumerate_space(space, self.enumeration_limit)?)
            }
            _ => None,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        while !evaluator.is_exhausted() {
            let archive = evaluator.archive();
            let pool = match &whole {
                Some(all) => all
                    .iter()
                    .filter(|g| !archive.contains(g))
                    .cloned()
                    .collect(),
                None => generated_pool(space, archive, self.random_pool, &mut rng),
            };
            let size = self.batch.max(archive.len() / self.batch_growth.max(1));
            let batch = self.next_batch(problem, &encoding, archive, pool, size);
            if batch.is_empty() {
                break;
            }
            evaluator.evaluate(&batch)?;
        }
        Ok(evaluator.into_run())
    }
}

/// Gauss–Hermite nodes (in standard deviations) and weights of a normal expectation.
const NODES: [(f64, f64); 5] = [
    (-2.856_970_013_872_806, 0.011_257_411_327_720_7),
    (-1.355_626_179_974_266, 0.222_075_922_005_612_6),
    (0.0, 0.533_333_333_333_333_3),
    (1.355_626_179_974_266, 0.222_075_922_005_612_6),
    (2.856_970_013_872_806, 0.011_257_411_327_720_7),
];

/// A pool candidate with its objectives under the optimistic and the mean error.
struct Scored {
    genes: Genes,
    optimistic: Vec<f64>,
    /// Weighted feasible objective vectors the gain is averaged over.
    nodes: Vec<(f64, Vec<f64>)>,
    /// `None` when the mean error makes it infeasible.
    believed: Option<Vec<f64>>,
}

impl SurrogateSearch {
    /// Up to `size` candidates of `pool` to evaluate next (see the module doc).
    fn next_batch<P: LayerwiseProblem>(
        &self,
        problem: &P,
        encoding: &OneHot,
        archive: &EvaluationArchive,
        pool: Vec<Genes>,
        size: usize,
    ) -> Vec<Genes> {
        let error = problem.error_objective();
        let (inputs, targets): (Vec<Genes>, Vec<f64>) = archive
            .records()
            .iter()
            .filter_map(|r| {
                let e = *r.evaluation.objectives.get(error)?;
                e.is_finite().then(|| (r.genes.clone(), e))
            })
            .unzip();
        let Some(model) = AdditiveModel::fit(encoding, &inputs, &targets) else {
            return pool.into_iter().take(size).collect();
        };
        let kriging = (inputs.len() <= self.kriging_limit)
            .then(|| {
                let residuals: Vec<f64> = inputs
                    .iter()
                    .zip(&targets)
                    .map(|(g, y)| y - model.mean(g))
                    .collect();
                ResidualKriging::fit(&inputs, &residuals)
            })
            .flatten();
        let noise = model.residual_scale().powi(2);
        let lowest = if self.expected_gain {
            -NODES[0].0
        } else {
            self.exploration
        };
        let mut candidates: Vec<Scored> = pool
            .into_par_iter()
            .filter_map(|genes| {
                let p = model.predict(&genes);
                let (correction, left) =
                    kriging.as_ref().map_or((0.0, noise), |k| k.predict(&genes));
                let mean = p.mean + correction;
                let std = (p.std * p.std + left).sqrt();
                let at = |e: f64| {
                    problem
                        .evaluation_with_error(&genes, e)
                        .filter(|e| e.is_feasible())
                        .map(|e| e.objectives)
                };
                let optimistic = at(mean - lowest * std)?;
                let nodes = if self.expected_gain {
                    NODES
                        .iter()
                        .filter_map(|&(z, w)| Some((w, at(mean + z * std)?)))
                        .collect()
                } else {
                    vec![(1.0, optimistic.clone())]
                };
                let believed = at(mean);
                Some(Scored {
                    genes,
                    believed,
                    optimistic,
                    nodes,
                })
            })
            .collect();
        let mut front = ParetoArchive::new();
        for r in archive.records() {
            if r.evaluation.is_feasible() {
                front.insert(r.evaluation.objectives.clone(), ());
            }
        }
        let mut current = front.points();
        let mut promised = current.clone();
        promised.extend(
            candidates
                .iter()
                .filter(|c| !current.iter().any(|f| dominates(f, &c.optimistic)))
                .map(|c| c.optimistic.clone()),
        );
        let Ok(reference) = reference_point(&promised) else {
            return Vec::new();
        };
        let mut batch = Vec::with_capacity(size);
        while batch.len() < size && !candidates.is_empty() {
            let base = hypervolume(&current, &reference).unwrap_or(0.0);
            let merits: Vec<Merit> = candidates
                .par_iter()
                .map(|c| merit(&current, &reference, base, c, error))
                .collect();
            let best = (0..candidates.len())
                .reduce(|a, b| {
                    if merits[b].better_than(&merits[a]) {
                        b
                    } else {
                        a
                    }
                })
                .expect("candidates is not empty");
            let picked = candidates.swap_remove(best);
            if let Some(b) = picked.believed {
                if !current.iter().any(|f| dominates(f, &b) || f == &b) {
                    current.retain(|f| !dominates(&b, f));
                    current.push(b);
                }
            }
            batch.push(picked.genes);
        }
        batch
    }
}

/// How much a candidate promises: hypervolume added, or (when it adds none) how much its error
/// would have to fall for it to stop being dominated.
#[derive(Debug, Clone, Copy)]
struct Merit {
    gain: f64,
    gap: f64,
}

impl Merit {
    fn better_than(&self, other: &Merit) -> bool {
        if self.gain > 0.0 || other.gain > 0.0 {
            self.gain > other.gain
        } else {
            self.gap < other.gap
        }
    }
}

fn merit(
    current: &[Vec<f64>],
    reference: &[f64],
    base: f64,
    candidate: &Scored,
    error: usize,
) -> Merit {
    // The least error among front points no worse than `point` in every other objective.
    let gap_of = |point: &[f64]| {
        let covering = current
            .iter()
            .filter(|f| {
                f.iter()
                    .zip(point)
                    .enumerate()
                    .all(|(k, (a, b))| k == error || a <= b)
            })
            .map(|f| f[error])
            .fold(f64::INFINITY, f64::min);
        point[error] - covering
    };
    let gap = gap_of(&candidate.optimistic);
    if gap >= 0.0 {
        return Merit { gain: 0.0, gap };
    }
    let mut gain = 0.0;
    for (w, point) in &candidate.nodes {
        if gap_of(point) < 0.0 {
            let mut with = current.to_vec();
            with.push(point.clone());
            gain += w * hypervolume(&with, reference).map_or(0.0, |hv| hv - base);
        }
    }
    Merit { gain, gap }
}

/// The seeding candidates in order: the uniform configurations, then the most precise and the
/// cheapest candidates each with one gene at another value, nearest values first. Both ends,
/// because the front's extremes lie next to them: a costly layer raised alone above the
/// cheapest candidate is often the first step up the front, and the probes around the most
/// precise one measure each layer's sensitivity.
fn probe_candidates<P: LayerwiseProblem>(problem: &P) -> Vec<Genes> {
    let space = problem.space();
    let options = problem.layer_options();
    let precise = genes_of_choice(space.len(), &options, &vec![0; options.len()]);
    let cheapest_choice: Vec<usize> = options
        .iter()
        .map(|layer| {
            (0..layer.len())
                .min_by(|&a, &b| layer[a].cost.total_cmp(&layer[b].cost))
                .unwrap_or(0)
        })
        .collect();
    let cheapest = genes_of_choice(space.len(), &options, &cheapest_choice);
    let mut probes = uniform_configurations(space);
    probes.push(precise.clone());
    probes.push(cheapest.clone());
    let widest = space
        .variables()
        .iter()
        .filter_map(|v| v.cardinality())
        .max()
        .unwrap_or(1) as usize;
    for distance in 1..widest {
        for base in [&precise, &cheapest] {
            for (g, v) in space.variables().iter().enumerate() {
                let (lo, hi) = v.bounds();
                for value in [base[g] - distance as f64, base[g] + distance as f64] {
                    if v.is_discrete() && value >= lo && value <= hi {
                        let mut probe = base.clone();
                        probe[g] = value;
                        probes.push(probe);
                    }
                }
            }
        }
    }
    let mut seen = GeneKeySet::default();
    probes.retain(|g| seen.insert(GeneKey::of(g)));
    probes
}

/// The pool of a space too large to enumerate: every unevaluated move of one gene of a front
/// member to any other value, of two genes one step each, and `random` uniform draws.
fn generated_pool(
    space: &Space,
    archive: &EvaluationArchive,
    random: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<Genes> {
    let mut seen = GeneKeySet::default();
    let mut pool = Vec::new();
    let mut offer = |g: Genes, pool: &mut Vec<Genes>| {
        if !archive.contains(&g) && seen.insert(GeneKey::of(&g)) {
            pool.push(g);
        }
    };
    let vars = space.variables();
    for parent in archive.pareto_front() {
        let p = &parent.genes;
        let mut steps = Vec::new();
        for (g, v) in vars.iter().enumerate() {
            let (lo, hi) = v.bounds();
            let mut value = lo;
            while value <= hi {
                if value != p[g] {
                    let mut one = p.clone();
                    one[g] = value;
                    offer(one, &mut pool);
                    if (value - p[g]).abs() <= 1.0 {
                        steps.push((g, value));
                    }
                }
                value += 1.0;
            }
        }
        for (i, &(g, a)) in steps.iter().enumerate() {
            for &(h, b) in &steps[i + 1..] {
                if g != h {
                    let mut two = p.clone();
                    two[g] = a;
                    two[h] = b;
                    offer(two, &mut pool);
                }
            }
        }
    }
    for _ in 0..random {
        offer(random_genes(space, rng), &mut pool);
    }
    pool
}
