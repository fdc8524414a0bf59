//! Distance-based indicators and front comparison.

use crate::error::IndicatorError;

/// Inverted generational distance: the mean, over the points of the known `reference_front`,
/// of the Euclidean distance to the nearest point of `approximation`. Lower is better; 0 means
/// every reference point was found.
pub fn igd(
    approximation: &[Vec<f64>],
    reference_front: &[Vec<f64>],
) -> Result<f64, IndicatorError> {
    if approximation.is_empty() || reference_front.is_empty() {
        return Err(IndicatorError::EmptySet);
    }
    let d = reference_front[0].len();
    for (index, p) in approximation.iter().chain(reference_front).enumerate() {
        if p.len() != d {
            return Err(IndicatorError::Dimension {
                index,
                expected: d,
                got: p.len(),
            });
        }
    }
    let total: f64 = reference_front
        .iter()
        .map(|r| {
            approximation
                .iter()
                .map(|a| euclidean(a, r))
                .fold(f64::INFINITY, f64::min)
        })
        .sum();
    Ok(total / reference_front.len() as f64)
}

fn euclidean(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// How many points of the true front appear (objective vectors equal) in `found`.
pub fn recovered_count(true_front: &[Vec<f64>], found: &[Vec<f64>]) -> usize {
    true_front
        .iter()
        .filter(|t| found.iter().any(|f| f == *t))
        .count()
}
