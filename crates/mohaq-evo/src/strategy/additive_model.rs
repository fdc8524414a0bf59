//! The error model of the surrogate-assisted search: an additive effect per (gene, value), fitted
//! by ridge regression on one-hot genes, with the Bayesian linear-regression uncertainty of each
//! prediction.
//!
//! Why additive: quantization error in a layer-wise space is, to first order, a sum of per-layer
//! contributions (the premise of HAWQ's and AMP's sensitivities), so a model with one coefficient
//! per gene value is identified by the uniform configurations and the single-gene probes and
//! corrected by every evaluation after. The uncertainty `s·√(xᵀA⁻¹x)` is large for gene values
//! seen rarely, which is what the search's exploration term needs. The model sees only genes and
//! error values, never the problem.

use crate::problem::{Genes, Space};

/// Ridge penalty per unit of feature weight (one-hot features sum to one per gene, so a small
/// penalty is what makes the system solvable before every value has been seen).
const RIDGE: f64 = 1e-3;

/// One-hot encoding of discrete genes: feature 0 is the intercept, then one per (gene, value).
#[derive(Debug, Clone)]
pub struct OneHot {
    /// Per gene: its lower bound and the index of its first feature.
    genes: Vec<(f64, usize)>,
    width: usize,
}

impl OneHot {
    /// `None` when a gene is real (not one-hot encodable) or the encoding would be too wide.
    pub fn of(space: &Space, max_width: usize) -> Option<Self> {
        let mut genes = Vec::with_capacity(space.len());
        let mut width = 1;
        for v in space.variables() {
            let n = v.cardinality()?;
            if !v.is_discrete() || width as u128 + n > max_width as u128 {
                return None;
            }
            genes.push((v.bounds().0, width));
            width += n as usize;
        }
        Some(Self { genes, width })
    }

    pub fn width(&self) -> usize {
        self.width
    }

    /// Indices of the features that are 1 for `genes` (the intercept first).
    fn active<'a>(&'a self, genes: &'a [f64]) -> impl Iterator<Item = usize> + 'a {
        std::iter::once(0).chain(
            self.genes
                .iter()
                .zip(genes)
                .map(|(&(lo, first), &g)| first + (g - lo).round().max(0.0) as usize),
        )
    }
}

/// A fitted additive model: coefficients, the inverse of the regularised Gram matrix and the
/// residual scale.
#[derive(Debug, Clone)]
pub struct AdditiveModel {
    encoding: OneHot,
    coefficients: Vec<f64>,
    /// `(XᵀX + λI)⁻¹`, row-major.
    inverse: Vec<f64>,
    /// Residual standard deviation (the observed spread while too few points to estimate it).
    scale: f64,
}

/// A prediction: mean and standard deviation of the model's estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    pub mean: f64,
    pub std: f64,
}

impl AdditiveModel {
    /// Fits `targets[i]` on `inputs[i]`. `None` without data or when the system is singular
    /// (which the ridge penalty rules out in exact arithmetic).
    pub fn fit(encoding: &OneHot, inputs: &[Genes], targets: &[f64]) -> Option<Self> {
        let n = inputs.len();
        if n == 0 || n != targets.len() {
            return None;
        }
        let p = encoding.width();
        let mut gram = vec![0.0; p * p];
        let mut rhs = vec![0.0; p];
        let mean = targets.iter().sum::<f64>() / n as f64;
        for (x, &y) in inputs.iter().zip(targets) {
            let active: Vec<usize> = encoding.active(x).collect();
            for &i in &active {
                rhs[i] += y - mean;
                for &j in &active {
                    gram[i * p + j] += 1.0;
                }
            }
        }
        for i in 0..p {
            gram[i * p + i] += RIDGE * n.max(1) as f64;
        }
        let inverse = invert_spd(&gram, p)?;
        let mut coefficients: Vec<f64> = (0..p)
            .map(|i| (0..p).map(|j| inverse[i * p + j] * rhs[j]).sum())
            .collect();
        coefficients[0] += mean;
        let mut model = Self {
            encoding: encoding.clone(),
            coefficients,
            inverse,
            scale: 0.0,
        };
        let rss: f64 = inputs
            .iter()
            .zip(targets)
            .map(|(x, &y)| (y - model.mean(x)).powi(2))
            .sum();
        // Degrees of freedom of a one-hot model: the intercept plus (values − 1) per gene.
        let dof = p - model.encoding.genes.len();
        model.scale = if n > dof + 1 {
            (rss / (n - dof) as f64).sqrt()
        } else {
            let var = targets.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / n as f64;
            var.sqrt()
        };
        Some(model)
    }

    /// Residual standard deviation: the spread of the errors the additive terms do not explain.
    pub fn residual_scale(&self) -> f64 {
        self.scale
    }

    /// The predicted error of `genes` (without its uncertainty).
    pub fn mean(&self, genes: &[f64]) -> f64 {
        self.encoding
            .active(genes)
            .map(|i| self.coefficients[i])
            .sum()
    }

    /// The predicted error of `genes` and its uncertainty.
    pub fn predict(&self, genes: &[f64]) -> Prediction {
        let p = self.encoding.width();
        let active: Vec<usize> = self.encoding.active(genes).collect();
        let quadratic: f64 = active
            .iter()
            .flat_map(|&i| active.iter().map(move |&j| (i, j)))
            .map(|(i, j)| self.inverse[i * p + j])
            .sum();
        Prediction {
            mean: self.mean(genes),
            std: self.scale * quadratic.max(0.0).sqrt(),
        }
    }
}

/// Inverse of a symmetric positive definite `p×p` matrix by Cholesky factorisation.
pub(crate) fn invert_spd(a: &[f64], p: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; p * p];
    for i in 0..p {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * p + k] * l[j * p + k]).sum();
            if i == j {
                let d = a[i * p + i] - s;
                if d <= 0.0 || !d.is_finite() {
                    return None;
                }
                l[i * p + i] = d.sqrt();
            } else {
                l[i * p + j] = (a[i * p + j] - s) / l[j * p + j];
            }
        }
    }
    // Solve L Lᵀ X = I column by column.
    let mut inverse = vec![0.0; p * p];
    let mut y = vec![0.0; p];
    for c in 0..p {
        for i in 0..p {
            let s: f64 = (0..i).map(|k| l[i * p + k] * y[k]).sum();
            y[i] = (if i == c { 1.0 } else { 0.0 } - s) / l[i * p + i];
        }
        for i in (0..p).rev() {
            let s: f64 = (i + 1..p).map(|k| l[k * p + i] * inverse[k * p + c]).sum();
            inverse[i * p + c] = (y[i] - s) / l[i * p + i];
        }
    }
    Some(inverse)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::Variable;

    fn space(n: usize, k: i64) -> Space {
        Space::repeat(Variable::Integer { lo: 0, hi: k - 1 }, n).unwrap()
    }

    #[test]
    fn an_additive_target_is_fitted_and_predicted_exactly_enough() {
        let s = space(3, 3);
        let enc = OneHot::of(&s, 100).unwrap();
        let all = crate::exhaustive::enumerate_space(&s, 100).unwrap();
        let f = |g: &[f64]| 1.0 + 2.0 * g[0] - g[1] * g[1] + 0.5 * g[2];
        let y: Vec<f64> = all.iter().map(|g| f(g)).collect();
        let m = AdditiveModel::fit(&enc, &all, &y).unwrap();
        for g in &all {
            let p = m.predict(g);
            assert!((p.mean - f(g)).abs() < 0.05, "{g:?}: {p:?}");
        }
    }

    #[test]
    fn unseen_values_are_more_uncertain() {
        let s = space(2, 3);
        let enc = OneHot::of(&s, 100).unwrap();
        let seen = vec![
            vec![0.0, 0.0],
            vec![1.0, 0.0],
            vec![0.0, 1.0],
            vec![1.0, 1.0],
        ];
        let y = vec![0.0, 1.0, 2.0, 3.5];
        let m = AdditiveModel::fit(&enc, &seen, &y).unwrap();
        let known = m.predict(&[1.0, 1.0]).std;
        let unknown = m.predict(&[2.0, 2.0]).std;
        assert!(unknown > known, "{unknown} vs {known}");
    }

    #[test]
    fn the_inverse_is_an_inverse() {
        let a = vec![4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0];
        let inv = invert_spd(&a, 3).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let x: f64 = (0..3).map(|k| a[i * 3 + k] * inv[k * 3 + j]).sum();
                assert!((x - f64::from(u8::from(i == j))).abs() < 1e-12);
            }
        }
    }
}
