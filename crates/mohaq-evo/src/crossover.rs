//! Simulated binary crossover (SBX), bounded form, as in pymoo 0.4.

use rand::Rng;

use crate::bounds::OperatorBounds;
use crate::config::SbxConfig;
use crate::problem::{Genes, Space};

/// Values closer than this are not crossed (pymoo's threshold).
const SAME_VALUE: f64 = 1e-14;

/// Crosses two parents into two children.
///
/// With probability `prob` the mating happens at all; then each variable is exchanged with
/// probability `prob_per_variable` (0.5 in pymoo), the children's values are drawn from the
/// bounded SBX spread distribution with index `eta`, and the two children swap that variable with
/// probability 0.5. Discrete genes run on bounds widened by almost half a unit, then are rounded.
pub fn sbx<R: Rng>(
    space: &Space,
    config: &SbxConfig,
    a: &[f64],
    b: &[f64],
    rng: &mut R,
) -> (Genes, Genes) {
    let mut c1 = a.to_vec();
    let mut c2 = b.to_vec();
    if rng.random::<f64>() >= config.prob {
        return (c1, c2);
    }
    for (i, variable) in space.variables().iter().enumerate() {
        if rng.random::<f64>() > config.prob_per_variable || (a[i] - b[i]).abs() <= SAME_VALUE {
            continue;
        }
        let bounds = OperatorBounds::of(variable);
        let (x, y) = sbx_pair(a[i], b[i], bounds.lo, bounds.hi, config.eta, rng);
        let (x, y) = if rng.random::<f64>() <= 0.5 {
            (y, x)
        } else {
            (x, y)
        };
        c1[i] = bounds.finish(x);
        c2[i] = bounds.finish(y);
    }
    (c1, c2)
}

/// The two SBX values for one variable (before the random swap); `lo`, `hi` are the bounds.
fn sbx_pair<R: Rng>(a: f64, b: f64, lo: f64, hi: f64, eta: f64, rng: &mut R) -> (f64, f64) {
    let (y1, y2) = if a <= b { (a, b) } else { (b, a) };
    let delta = (y2 - y1).max(1e-10);
    let u: f64 = rng.random();
    let spread = |beta: f64| -> f64 {
        let alpha = 2.0 - beta.powf(-(eta + 1.0));
        if u <= 1.0 / alpha {
            (u * alpha).powf(1.0 / (eta + 1.0))
        } else {
            (1.0 / (2.0 - u * alpha)).powf(1.0 / (eta + 1.0))
        }
    };
    let beta_low = 1.0 + 2.0 * (y1 - lo) / delta;
    let c1 = 0.5 * ((y1 + y2) - spread(beta_low) * delta);
    let beta_high = 1.0 + 2.0 * (hi - y2) / delta;
    let c2 = 0.5 * ((y1 + y2) + spread(beta_high) * delta);
    (c1.clamp(lo, hi), c2.clamp(lo, hi))
}
