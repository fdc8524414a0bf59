//! Everything a run needs to continue: what a checkpoint stores.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::archive::EvaluationArchive;
use crate::dominance::non_dominated_indices;
use crate::population::Individual;

/// The state of a run between generations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nsga2State {
    /// Generations completed; 0 before the initial population is evaluated.
    pub generation: usize,
    /// The only source of randomness; used in the sequential parts of a generation only.
    pub rng: ChaCha8Rng,
    pub population: Vec<Individual>,
    /// Every evaluation ever made, in order; also the cache.
    pub archive: EvaluationArchive,
}

impl Nsga2State {
    /// The state before generation 1.
    pub fn new(seed: u64) -> Self {
        Self {
            generation: 0,
            rng: ChaCha8Rng::seed_from_u64(seed),
            population: Vec::new(),
            archive: EvaluationArchive::new(),
        }
    }

    /// Problem evaluations made so far (the archive holds each exactly once).
    pub fn n_evaluations(&self) -> usize {
        self.archive.len()
    }

    /// Feasible members of the population no other feasible member dominates.
    pub fn population_front(&self) -> Vec<&Individual> {
        let feasible: Vec<&Individual> =
            self.population.iter().filter(|i| i.is_feasible()).collect();
        let points: Vec<Vec<f64>> = feasible.iter().map(|i| i.objectives().to_vec()).collect();
        non_dominated_indices(&points)
            .into_iter()
            .map(|k| feasible[k])
            .collect()
    }
}
