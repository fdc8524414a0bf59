//! Exact hypervolume: a sweep in 2-D, a staircase sweep in 3-D (O(n log n), after Beume et al.),
//! and hypervolume-by-slicing-objectives (HSO) for more objectives.
//!
//! All objectives are minimised; the hypervolume is the measure of the region dominated by the
//! points and bounded by the reference point. Points that do not strictly dominate the reference
//! point contribute nothing.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::error::IndicatorError;

/// Exact hypervolume of `points` with respect to `reference`, any number of objectives.
pub fn hypervolume(points: &[Vec<f64>], reference: &[f64]) -> Result<f64, IndicatorError> {
    let kept = validated(points, reference)?;
    Ok(match reference.len() {
        1 => kept.iter().map(|p| reference[0] - p[0]).fold(0.0, f64::max),
        2 => hv_2d(&kept, reference),
        3 => hv_3d(&kept, reference),
        d => slicing(kept, reference, d, 3),
    })
}

/// The same measure by pure slicing down to 2-D: slower, and independent of the 3-D sweep, so
/// it serves as a cross-check.
pub fn hypervolume_by_slicing(
    points: &[Vec<f64>],
    reference: &[f64],
) -> Result<f64, IndicatorError> {
    let kept = validated(points, reference)?;
    Ok(match reference.len() {
        1 => hypervolume(points, reference)?,
        2 => hv_2d(&kept, reference),
        d => slicing(kept, reference, d, 2),
    })
}

/// Checks dimensions and finiteness; returns the points that strictly dominate the reference.
fn validated(points: &[Vec<f64>], reference: &[f64]) -> Result<Vec<Vec<f64>>, IndicatorError> {
    if reference.is_empty() {
        return Err(IndicatorError::EmptyReference);
    }
    if reference.iter().any(|r| !r.is_finite()) {
        return Err(IndicatorError::NonFinite {
            which: "reference point",
            index: 0,
        });
    }
    let mut kept = Vec::with_capacity(points.len());
    for (index, p) in points.iter().enumerate() {
        if p.len() != reference.len() {
            return Err(IndicatorError::Dimension {
                index,
                expected: reference.len(),
                got: p.len(),
            });
        }
        if p.iter().any(|x| !x.is_finite()) {
            return Err(IndicatorError::NonFinite {
                which: "point",
                index,
            });
        }
        if p.iter().zip(reference).all(|(x, r)| x < r) {
            kept.push(p.clone());
        }
    }
    Ok(kept)
}

/// 2-D: sort by the first objective and add one rectangle per improvement of the second.
fn hv_2d(points: &[Vec<f64>], reference: &[f64]) -> f64 {
    let mut sorted: Vec<(f64, f64)> = points.iter().map(|p| (p[0], p[1])).collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut best_y = reference[1];
    let mut area = 0.0;
    for (x, y) in sorted {
        if y < best_y {
            area += (reference[0] - x) * (best_y - y);
            best_y = y;
        }
    }
    area
}

/// A totally ordered `f64` key for the staircase map.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Key(f64);
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// 3-D: sweep along the third objective, keeping the 2-D non-dominated staircase of the points
/// seen so far and its area, updated locally on each insertion.
fn hv_3d(points: &[Vec<f64>], reference: &[f64]) -> f64 {
    let mut sorted: Vec<&Vec<f64>> = points.iter().collect();
    sorted.sort_by(|a, b| a[2].total_cmp(&b[2]));
    let (rx, ry, rz) = (reference[0], reference[1], reference[2]);
    let mut stairs: BTreeMap<Key, f64> = BTreeMap::new();
    let mut area = 0.0;
    let mut volume = 0.0;
    let mut last_z = f64::NAN;
    for p in sorted {
        let (x, y, z) = (p[0], p[1], p[2]);
        if !last_z.is_nan() {
            volume += area * (z - last_z);
        }
        last_z = z;
        // Dominated (or equalled) in x-y by a point already in the staircase?
        if let Some((_, &py)) = stairs.range(..=Key(x)).next_back() {
            if py <= y {
                continue;
            }
        }
        let left_height = stairs.range(..Key(x)).next_back().map_or(ry, |(_, &py)| py);
        let mut removed = Vec::new();
        let mut right_x = rx;
        for (&k, &py) in stairs.range(Key(x)..) {
            if py >= y {
                removed.push((k, py));
            } else {
                right_x = k.0;
                break;
            }
        }
        let (mut cur_x, mut cur_h) = (x, left_height);
        for &(k, py) in &removed {
            area += (k.0 - cur_x) * (cur_h - y);
            cur_x = k.0;
            cur_h = py;
            stairs.remove(&k);
        }
        area += (right_x - cur_x) * (cur_h - y);
        stairs.insert(Key(x), y);
    }
    if !last_z.is_nan() {
        volume += area * (rz - last_z);
    }
    volume
}

/// HSO: slice along the last objective; each slab's cross-section is the hypervolume of the
/// points below it in one dimension fewer. Recursion ends at `base` dimensions (2 or 3).
fn slicing(mut points: Vec<Vec<f64>>, reference: &[f64], d: usize, base: usize) -> f64 {
    if d == 2 {
        return hv_2d(&points, reference);
    }
    if d == 3 && base == 3 {
        return hv_3d(&points, reference);
    }
    let last = d - 1;
    points.sort_by(|a, b| a[last].total_cmp(&b[last]));
    let mut slab: Vec<Vec<f64>> = Vec::new();
    let mut volume = 0.0;
    for i in 0..points.len() {
        let projected = points[i][..last].to_vec();
        if !slab.iter().any(|q| weakly_dominates(q, &projected)) {
            slab.retain(|q| !weakly_dominates(&projected, q));
            slab.push(projected);
        }
        let next = points.get(i + 1).map_or(reference[last], |p| p[last]);
        let depth = next - points[i][last];
        if depth > 0.0 {
            volume += slicing(slab.clone(), &reference[..last], last, base) * depth;
        }
    }
    volume
}

/// `a` is no worse than `b` in every objective (so `b` adds nothing to a dominated region).
fn weakly_dominates(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x <= y)
}
