//! Every evaluation ever made, in order: the cache that stops the same genes being evaluated
//! twice, within a run and across resumed runs (it is stored in the checkpoint).

use serde::{Deserialize, Serialize};

use crate::duplicates::{GeneKey, GeneKeyMap};
use crate::pareto_archive::ParetoArchive;
use crate::problem::{Evaluation, Genes};

/// One evaluated candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationRecord {
    pub genes: Genes,
    pub evaluation: Evaluation,
}

/// All evaluations in the order they were made, indexed by genes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(from = "Vec<EvaluationRecord>", into = "Vec<EvaluationRecord>")]
pub struct EvaluationArchive {
    records: Vec<EvaluationRecord>,
    index: GeneKeyMap<usize>,
}

impl PartialEq for EvaluationArchive {
    fn eq(&self, other: &Self) -> bool {
        self.records == other.records
    }
}

impl From<Vec<EvaluationRecord>> for EvaluationArchive {
    fn from(records: Vec<EvaluationRecord>) -> Self {
        let mut archive = Self::default();
        for r in records {
            archive.insert(r.genes, r.evaluation);
        }
        archive
    }
}

impl From<EvaluationArchive> for Vec<EvaluationRecord> {
    fn from(archive: EvaluationArchive) -> Self {
        archive.records
    }
}

impl EvaluationArchive {
    pub fn new() -> Self {
        Self::default()
    }

    /// The cached evaluation of these genes, if any.
    pub fn get(&self, genes: &[f64]) -> Option<&Evaluation> {
        self.index
            .get(&GeneKey::of(genes))
            .map(|&i| &self.records[i].evaluation)
    }

    pub fn contains(&self, genes: &[f64]) -> bool {
        self.index.contains_key(&GeneKey::of(genes))
    }

    /// Records an evaluation; a second evaluation of the same genes is ignored (returns false).
    pub fn insert(&mut self, genes: Genes, evaluation: Evaluation) -> bool {
        let key = GeneKey::of(&genes);
        if self.index.contains_key(&key) {
            return false;
        }
        self.index.insert(key, self.records.len());
        self.records.push(EvaluationRecord { genes, evaluation });
        true
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// All records in evaluation order.
    pub fn records(&self) -> &[EvaluationRecord] {
        &self.records
    }

    /// The feasible records no other feasible record dominates: the best trade-offs ever
    /// evaluated, whether or not they survived in the population.
    pub fn pareto_front(&self) -> Vec<&EvaluationRecord> {
        let mut front = ParetoArchive::new();
        for (i, r) in self.records.iter().enumerate() {
            if r.evaluation.is_feasible() {
                front.insert(r.evaluation.objectives.clone(), i);
            }
        }
        let mut indices: Vec<usize> = front.into_members().into_iter().map(|(_, i)| i).collect();
        indices.sort_unstable();
        indices.into_iter().map(|i| &self.records[i]).collect()
    }
}
