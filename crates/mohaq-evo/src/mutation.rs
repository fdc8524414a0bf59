//! Polynomial mutation (Deb's bounded form), as in pymoo 0.4.

use rand::Rng;

use crate::bounds::OperatorBounds;
use crate::config::PmConfig;
use crate::problem::Space;

/// Mutates `genes` in place: each variable with probability `prob` (default `1 / n_var`),
/// perturbed by the polynomial distribution with index `eta` scaled to its bounds. Discrete genes
/// run on bounds widened by almost half a unit, then are rounded.
pub fn polynomial_mutation<R: Rng>(
    space: &Space,
    config: &PmConfig,
    genes: &mut [f64],
    rng: &mut R,
) {
    let prob = config.prob.unwrap_or(1.0 / space.len() as f64);
    let mut_pow = 1.0 / (config.eta + 1.0);
    for (gene, variable) in genes.iter_mut().zip(space.variables()) {
        if rng.random::<f64>() >= prob {
            continue;
        }
        let bounds = OperatorBounds::of(variable);
        let range = bounds.hi - bounds.lo;
        if range <= 0.0 {
            continue;
        }
        let x = *gene;
        let delta1 = (x - bounds.lo) / range;
        let delta2 = (bounds.hi - x) / range;
        let u: f64 = rng.random();
        let deltaq = if u <= 0.5 {
            let val = 2.0 * u + (1.0 - 2.0 * u) * (1.0 - delta1).powf(config.eta + 1.0);
            val.powf(mut_pow) - 1.0
        } else {
            let val = 2.0 * (1.0 - u) + 2.0 * (u - 0.5) * (1.0 - delta2).powf(config.eta + 1.0);
            1.0 - val.powf(mut_pow)
        };
        *gene = bounds.finish((x + deltaq * range).clamp(bounds.lo, bounds.hi));
    }
}
