//! How good a found front is against a reference front: hypervolume and its ratio to the
//! reference's, recall of reference points, IGD, all under one stated reference point.

use serde::{Deserialize, Serialize};

use crate::error::IndicatorError;
use crate::hypervolume::hypervolume;
use crate::indicators::{igd, recovered_count};

/// Margin beyond the reference front's worst point, as a share of its range per objective, that
/// places the hypervolume reference point (so the extreme points count too).
pub const REFERENCE_MARGIN: f64 = 0.1;

/// The hypervolume reference point of a reference front: its nadir plus
/// [`REFERENCE_MARGIN`] of its range in every objective (plus 1 where the range is 0).
pub fn reference_point(reference_front: &[Vec<f64>]) -> Result<Vec<f64>, IndicatorError> {
    let first = reference_front.first().ok_or(IndicatorError::EmptySet)?;
    let d = first.len();
    let mut lo = vec![f64::INFINITY; d];
    let mut hi = vec![f64::NEG_INFINITY; d];
    for (index, p) in reference_front.iter().enumerate() {
        if p.len() != d {
            return Err(IndicatorError::Dimension {
                index,
                expected: d,
                got: p.len(),
            });
        }
        for k in 0..d {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    Ok((0..d)
        .map(|k| {
            let range = hi[k] - lo[k];
            hi[k]
                + if range > 0.0 {
                    REFERENCE_MARGIN * range
                } else {
                    1.0
                }
        })
        .collect())
}

/// Indicators of one front against a reference front.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrontQuality {
    pub hypervolume: f64,
    /// Hypervolume over the reference front's (1 when the front covers it).
    pub hv_ratio: f64,
    /// Reference-front points found exactly (equal objectives).
    pub recovered: usize,
    pub reference_size: usize,
    /// `None` for an empty front.
    pub igd: Option<f64>,
}

impl FrontQuality {
    /// Measures `front` against `reference_front` with the hypervolume reference point
    /// `reference`.
    pub fn measure(
        front: &[Vec<f64>],
        reference_front: &[Vec<f64>],
        reference: &[f64],
    ) -> Result<Self, IndicatorError> {
        let best = hypervolume(reference_front, reference)?;
        let hv = if front.is_empty() {
            0.0
        } else {
            hypervolume(front, reference)?
        };
        Ok(Self {
            hypervolume: hv,
            hv_ratio: if best > 0.0 { hv / best } else { 0.0 },
            recovered: recovered_count(reference_front, front),
            reference_size: reference_front.len(),
            igd: igd(front, reference_front).ok(),
        })
    }
}
