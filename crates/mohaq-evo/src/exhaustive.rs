//! Ground truth for small discrete spaces: evaluate every candidate and keep the true Pareto
//! front (SiLago's 3^8 = 6,561 bit-width assignments, say).

use crate::archive::{EvaluationArchive, EvaluationRecord};
use crate::error::{Nsga2Error, SpaceError};
use crate::evaluation::evaluate_through_cache;
use crate::pareto_archive::ParetoArchive;
use crate::problem::{Genes, Problem, Space};

/// Every candidate of a discrete space, in lexicographic order (the last gene varies fastest).
///
/// Fails for a real variable or a space larger than `limit` candidates.
pub fn enumerate_space(space: &Space, limit: u128) -> Result<Vec<Genes>, SpaceError> {
    let mut radices = Vec::with_capacity(space.len());
    for (index, v) in space.variables().iter().enumerate() {
        let size = v.cardinality().ok_or(SpaceError::NotDiscrete { index })?;
        radices.push((v.bounds().0, size));
    }
    let total = space
        .cardinality()
        .ok_or(SpaceError::NotDiscrete { index: 0 })?;
    if total > limit {
        return Err(SpaceError::TooLarge { size: total, limit });
    }
    let total = total as usize;
    let mut all = Vec::with_capacity(total);
    let mut digits = vec![0u128; radices.len()];
    for _ in 0..total {
        all.push(
            digits
                .iter()
                .zip(&radices)
                .map(|(&d, &(lo, _))| lo + d as f64)
                .collect(),
        );
        for k in (0..digits.len()).rev() {
            digits[k] += 1;
            if digits[k] < radices[k].1 {
                break;
            }
            digits[k] = 0;
        }
    }
    Ok(all)
}

/// Evaluates every candidate of `problem`'s space (in parallel, `chunk` candidates per batch,
/// skipping any already in `archive`) and returns the true front: feasible candidates that no
/// feasible candidate dominates, in enumeration order.
///
/// `progress(done, total, archive)` is called after each chunk, with the archive so far, so a
/// caller can save it and a killed enumeration loses at most one chunk. Evaluations are added to `archive`, which
/// can be saved and reused; on a failure it keeps those that finished.
pub fn exhaustive_front<P: Problem>(
    problem: &P,
    archive: &mut EvaluationArchive,
    limit: u128,
    chunk: usize,
    mut progress: impl FnMut(usize, usize, &EvaluationArchive),
) -> Result<Vec<EvaluationRecord>, Nsga2Error> {
    let all = enumerate_space(problem.space(), limit)?;
    let chunk = chunk.max(1);
    let mut front = ParetoArchive::new();
    for (k, batch) in all.chunks(chunk).enumerate() {
        let evaluated = evaluate_through_cache(problem, archive, batch, 0)?;
        for (i, evaluation) in evaluated.evaluations.into_iter().enumerate() {
            if evaluation.is_feasible() {
                front.insert(evaluation.objectives.clone(), (k * chunk + i, evaluation));
            }
        }
        progress(((k + 1) * chunk).min(all.len()), all.len(), archive);
    }
    let mut members: Vec<(usize, EvaluationRecord)> = front
        .into_members()
        .into_iter()
        .map(|(_, (i, evaluation))| {
            (
                i,
                EvaluationRecord {
                    genes: all[i].clone(),
                    evaluation,
                },
            )
        })
        .collect();
    members.sort_by_key(|(i, _)| *i);
    Ok(members.into_iter().map(|(_, r)| r).collect())
}
