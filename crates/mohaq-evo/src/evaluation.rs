//! Evaluation through the cache: only genes never seen before reach the problem, as one
//! parallel batch; results come back in candidate order, so thread count cannot change a run.

use crate::archive::EvaluationArchive;
use crate::duplicates::{GeneKey, GeneKeySet};
use crate::error::Nsga2Error;
use crate::problem::{Evaluation, Genes, Problem};

/// Evaluations of `candidates` (in order) and how many came from the cache.
pub(crate) struct Evaluated {
    pub evaluations: Vec<Evaluation>,
    pub cache_hits: usize,
}

/// Evaluates whatever `archive` lacks, records it, and returns every candidate's evaluation.
///
/// On a failure the evaluations before the first failing candidate are recorded (so that a run
/// resumed from a checkpoint repeats the same sequence of evaluations) and the error returned.
pub(crate) fn evaluate_through_cache<P: Problem>(
    problem: &P,
    archive: &mut EvaluationArchive,
    candidates: &[Genes],
    generation: usize,
) -> Result<Evaluated, Nsga2Error> {
    let mut queued = GeneKeySet::default();
    let fresh: Vec<Genes> = candidates
        .iter()
        .filter(|g| !archive.contains(g) && queued.insert(GeneKey::of(g)))
        .cloned()
        .collect();
    let cache_hits = candidates.len() - fresh.len();
    if !fresh.is_empty() {
        let results = problem.evaluate_batch(&fresh);
        if results.len() != fresh.len() {
            return Err(Nsga2Error::BatchSize {
                expected: fresh.len(),
                got: results.len(),
            });
        }
        for (genes, result) in fresh.into_iter().zip(results) {
            match result {
                Ok(evaluation) => {
                    check_evaluation(problem, &genes, &evaluation, generation)?;
                    archive.insert(genes, evaluation);
                }
                Err(source) => {
                    return Err(Nsga2Error::Evaluation {
                        generation,
                        genes,
                        source: Box::new(source),
                    })
                }
            }
        }
    }
    let evaluations = candidates
        .iter()
        .map(|g| archive.get(g).cloned())
        .collect::<Option<Vec<_>>>()
        .expect("every candidate was evaluated or cached above");
    Ok(Evaluated {
        evaluations,
        cache_hits,
    })
}

/// How many leading `candidates` can go through the cache while at most `allowance` of them are
/// new (neither in `archive` nor earlier in the list): the cut that honours an evaluation budget
/// exactly, in candidate order.
pub(crate) fn within_allowance(
    archive: &EvaluationArchive,
    candidates: &[Genes],
    allowance: usize,
) -> usize {
    let mut queued = GeneKeySet::default();
    let mut fresh = 0;
    for (i, g) in candidates.iter().enumerate() {
        if !archive.contains(g) && queued.insert(GeneKey::of(g)) {
            if fresh == allowance {
                return i;
            }
            fresh += 1;
        }
    }
    candidates.len()
}

/// Rejects evaluations the engine cannot rank or store.
fn check_evaluation<P: Problem>(
    problem: &P,
    genes: &[f64],
    evaluation: &Evaluation,
    generation: usize,
) -> Result<(), Nsga2Error> {
    let bad = |reason: String| {
        Err(Nsga2Error::BadEvaluation {
            generation,
            genes: genes.to_vec(),
            reason,
        })
    };
    if evaluation.objectives.len() != problem.n_objectives() {
        return bad(format!(
            "{} objectives, the problem declares {}",
            evaluation.objectives.len(),
            problem.n_objectives()
        ));
    }
    if evaluation.constraints.len() != problem.n_constraints() {
        return bad(format!(
            "{} constraints, the problem declares {}",
            evaluation.constraints.len(),
            problem.n_constraints()
        ));
    }
    if let Some(x) = evaluation
        .objectives
        .iter()
        .chain(&evaluation.constraints)
        .find(|x| !x.is_finite())
    {
        return bad(format!("non-finite value {x}"));
    }
    Ok(())
}
