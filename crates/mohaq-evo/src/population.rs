//! An evaluated member of the population, with the rank and crowding survival gave it.

use serde::{Deserialize, Serialize};

use crate::problem::{Evaluation, Genes};

/// Rank of an infeasible individual: tournaments compare those by violation, never by rank.
pub const UNRANKED: usize = usize::MAX;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Individual {
    pub genes: Genes,
    pub evaluation: Evaluation,
    /// Front number from the last survival (0 = non-dominated), [`UNRANKED`] if infeasible.
    pub rank: usize,
    /// Crowding distance within its front from the last survival.
    pub crowding: f64,
}

impl Individual {
    pub fn new(genes: Genes, evaluation: Evaluation) -> Self {
        Self {
            genes,
            evaluation,
            rank: UNRANKED,
            crowding: 0.0,
        }
    }

    pub fn objectives(&self) -> &[f64] {
        &self.evaluation.objectives
    }

    pub fn violation(&self) -> f64 {
        self.evaluation.violation()
    }

    pub fn is_feasible(&self) -> bool {
        self.evaluation.is_feasible()
    }
}
