//! A correction of the additive error model by the errors of nearby candidates: simple kriging
//! of the additive model's residuals with the covariance `v·ρ^d` in the Hamming distance `d`
//! between genes.
//!
//! Why: what an additive model misses (interactions between layers, decoding noise) is shared
//! by candidates that differ in few genes; on the real SiLago space the residuals of candidates
//! one gene apart correlate at 0.28, two apart at 0.09, three at 0.02, the geometric decay this
//! covariance has. `ρ` is the correlation of the residuals of evaluated pairs one gene apart
//! (clamped to `[0, 0.9]`), `v` their variance, so nothing is tuned to a problem. The posterior
//! variance is approximated from the nearest evaluated candidate, `v·(1 − ρ^{2d})`.

use crate::problem::Genes;
use crate::strategy::additive_model::invert_spd;

/// Largest correlation one gene apart the model accepts (a stable system).
const MAX_RHO: f64 = 0.9;

/// A fitted residual correction.
#[derive(Debug, Clone)]
pub struct ResidualKriging {
    points: Vec<Genes>,
    /// `K⁻¹ r`.
    weights: Vec<f64>,
    rho: f64,
    variance: f64,
}

fn hamming(a: &[f64], b: &[f64]) -> i32 {
    a.iter().zip(b).filter(|(x, y)| x != y).count() as i32
}

impl ResidualKriging {
    /// Fits `residuals[i]` at `points[i]`; `None` when there are too few pairs one gene apart to
    /// estimate the correlation, or no residual spread.
    pub fn fit(points: &[Genes], residuals: &[f64]) -> Option<Self> {
        let n = points.len();
        if n < 3 || n != residuals.len() {
            return None;
        }
        let mean = residuals.iter().sum::<f64>() / n as f64;
        let variance = residuals.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n as f64;
        if variance <= 0.0 || !variance.is_finite() {
            return None;
        }
        let (mut sxy, mut sxx, mut syy, mut pairs) = (0.0, 0.0, 0.0, 0usize);
        for i in 0..n {
            for j in i + 1..n {
                if hamming(&points[i], &points[j]) == 1 {
                    let (a, b) = (residuals[i] - mean, residuals[j] - mean);
                    sxy += a * b;
                    sxx += a * a;
                    syy += b * b;
                    pairs += 1;
                }
            }
        }
        if pairs < 3 || sxx <= 0.0 || syy <= 0.0 {
            return None;
        }
        let rho = (sxy / (sxx * syy).sqrt()).clamp(0.0, MAX_RHO);
        if rho == 0.0 {
            return None;
        }
        let mut k = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                k[i * n + j] = variance * rho.powi(hamming(&points[i], &points[j]));
            }
            // A small nugget keeps the system well conditioned (errors are deterministic).
            k[i * n + i] += 1e-6 * variance;
        }
        let inverse = invert_spd(&k, n)?;
        let weights = (0..n)
            .map(|i| (0..n).map(|j| inverse[i * n + j] * residuals[j]).sum())
            .collect();
        Some(Self {
            points: points.to_vec(),
            weights,
            rho,
            variance,
        })
    }

    /// The residual predicted at `genes` and the variance left around it.
    pub fn predict(&self, genes: &[f64]) -> (f64, f64) {
        let mut correction = 0.0;
        let mut nearest = i32::MAX;
        for (p, w) in self.points.iter().zip(&self.weights) {
            let d = hamming(p, genes);
            nearest = nearest.min(d);
            correction += w * self.variance * self.rho.powi(d);
        }
        let left = self.variance * (1.0 - self.rho.powi(2 * nearest.min(64)));
        (correction, left.max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_interpolates_evaluated_points_and_fades_with_distance() {
        let points: Vec<Genes> = vec![
            vec![0.0, 0.0, 0.0],
            vec![1.0, 0.0, 0.0],
            vec![0.0, 1.0, 0.0],
            vec![1.0, 1.0, 0.0],
            vec![0.0, 0.0, 1.0],
        ];
        let residuals = vec![1.0, 0.8, 0.6, 0.4, 0.9];
        let k = ResidualKriging::fit(&points, &residuals).unwrap();
        for (p, r) in points.iter().zip(&residuals) {
            let (c, left) = k.predict(p);
            assert!((c - r).abs() < 1e-3, "{p:?}: {c} vs {r}");
            assert!(left < 1e-9);
        }
        let (_, far) = k.predict(&[2.0, 2.0, 2.0]);
        let (_, near) = k.predict(&[2.0, 0.0, 0.0]);
        assert!(far > near);
    }
}
