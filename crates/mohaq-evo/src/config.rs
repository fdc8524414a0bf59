//! Settings of a run.

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// Simulated binary crossover.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SbxConfig {
    /// Probability that a pair of parents is crossed at all.
    pub prob: f64,
    /// Distribution index: larger keeps children closer to their parents.
    pub eta: f64,
    /// Probability that each variable is exchanged (pymoo: 0.5).
    pub prob_per_variable: f64,
}

/// Polynomial mutation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PmConfig {
    /// Distribution index: larger makes smaller steps.
    pub eta: f64,
    /// Per-variable probability; `None` means `1 / n_var` (pymoo's default).
    pub prob: Option<f64>,
}

/// Everything that decides the course of a run.
///
/// Generations are counted as pymoo counts them: the evaluated initial population is generation
/// 1, so `n_gen` generations cost `pop_size + (n_gen - 1) * n_offsprings` evaluations at most
/// (the authors' 40 / 10 / 60 gives 630).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nsga2Config {
    pub pop_size: usize,
    pub n_offsprings: usize,
    pub n_gen: usize,
    pub crossover: SbxConfig,
    pub mutation: PmConfig,
    pub seed: u64,
    /// Reject offspring equal to a population member or to an earlier offspring.
    pub eliminate_duplicates: bool,
    /// Reference point for the per-generation hypervolume in reports; `None` skips it.
    pub hv_reference: Option<Vec<f64>>,
}

impl Nsga2Config {
    /// The MOHAQ authors' settings (pymoo 0.4, integer genes): population 40, 10 offspring per
    /// generation, integer SBX (prob 1.0, η 3), integer polynomial mutation (η 3, 1/n_var),
    /// duplicates eliminated, seed 1.
    pub fn mohaq_authors(n_gen: usize) -> Self {
        Self {
            pop_size: 40,
            n_offsprings: 10,
            n_gen,
            crossover: SbxConfig {
                prob: 1.0,
                eta: 3.0,
                prob_per_variable: 0.5,
            },
            mutation: PmConfig {
                eta: 3.0,
                prob: None,
            },
            seed: 1,
            eliminate_duplicates: true,
            hv_reference: None,
        }
    }

    /// pymoo's NSGA-II defaults for real-valued benchmarks: offspring = population,
    /// SBX (prob 0.9, η 15), polynomial mutation (η 20, 1/n_var).
    pub fn pymoo_defaults(pop_size: usize, n_gen: usize, seed: u64) -> Self {
        Self {
            pop_size,
            n_offsprings: pop_size,
            n_gen,
            crossover: SbxConfig {
                prob: 0.9,
                eta: 15.0,
                prob_per_variable: 0.5,
            },
            mutation: PmConfig {
                eta: 20.0,
                prob: None,
            },
            seed,
            eliminate_duplicates: true,
            hv_reference: None,
        }
    }

    /// Checks ranges; [`crate::Nsga2::new`] calls it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field, requirement, value: String| {
            Err(ConfigError::Invalid {
                field,
                requirement,
                value,
            })
        };
        let probability = |p: f64| (0.0..=1.0).contains(&p);
        if self.pop_size < 2 {
            return invalid("pop_size", "at least 2", self.pop_size.to_string());
        }
        if self.n_offsprings == 0 {
            return invalid("n_offsprings", "at least 1", "0".into());
        }
        if self.n_gen == 0 {
            return invalid("n_gen", "at least 1", "0".into());
        }
        if !probability(self.crossover.prob) {
            return invalid(
                "crossover.prob",
                "in [0, 1]",
                self.crossover.prob.to_string(),
            );
        }
        if !probability(self.crossover.prob_per_variable) {
            return invalid(
                "crossover.prob_per_variable",
                "in [0, 1]",
                self.crossover.prob_per_variable.to_string(),
            );
        }
        if !(self.crossover.eta.is_finite() && self.crossover.eta >= 0.0) {
            return invalid(
                "crossover.eta",
                "finite and >= 0",
                self.crossover.eta.to_string(),
            );
        }
        if !(self.mutation.eta.is_finite() && self.mutation.eta >= 0.0) {
            return invalid(
                "mutation.eta",
                "finite and >= 0",
                self.mutation.eta.to_string(),
            );
        }
        if let Some(p) = self.mutation.prob {
            if !probability(p) {
                return invalid("mutation.prob", "in [0, 1]", p.to_string());
            }
        }
        if let Some(r) = &self.hv_reference {
            if r.is_empty() || r.iter().any(|x| !x.is_finite()) {
                return invalid("hv_reference", "non-empty and finite", format!("{r:?}"));
            }
        }
        Ok(())
    }

    /// Whether a checkpoint written under `other` can continue under `self`: everything that
    /// shapes the trajectory must match; `n_gen` may grow and `hv_reference` only affects reports.
    pub(crate) fn trajectory_mismatch(&self, other: &Self) -> Option<&'static str> {
        if self.pop_size != other.pop_size {
            Some("pop_size")
        } else if self.n_offsprings != other.n_offsprings {
            Some("n_offsprings")
        } else if self.crossover != other.crossover {
            Some("crossover")
        } else if self.mutation != other.mutation {
            Some("mutation")
        } else if self.seed != other.seed {
            Some("seed")
        } else if self.eliminate_duplicates != other.eliminate_duplicates {
            Some("eliminate_duplicates")
        } else {
            None
        }
    }
}
