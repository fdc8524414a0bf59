//! Decoder tuning: a grid search of the Viterbi parameters ([`DecoderParams`]) on fixed log
//! posteriors (the dev split's, computed once), so that the search costs decodes, not forwards.
//!
//! Every grid point decodes all utterances and is scored by its total edit errors (`S + D + I`,
//! i.e. the corpus PER over the same references). Where the best value of an axis lies on the
//! edge of the grid, that axis is widened by one step beyond the edge (within the parameter's
//! range) and the new points are searched, until the best is inside or [`TuningGrid::max_widenings`]
//! rounds were spent. Points are decoded in parallel (rayon) in fixed chunks, and the best is the
//! fewest errors with ties going to the lexicographically smallest parameters, so the result is
//! the same at any thread count.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::bigram::PhoneBigram;
use super::priors::StatePriors;
use super::score::{align, ErrorCounts};
use super::viterbi::{Decoder, DecoderParams, MAX_MIN_FRAMES};

/// Minimum phone durations searched by default (3 = the plain 3-state HMM).
const MIN_FRAMES_DEFAULT: [u32; 1] = [3];

/// Points decoded between two progress reports.
const CHUNK: usize = 32;

/// One utterance to tune on: its reference phones and its `frames x 117` log posteriors.
#[derive(Clone, Copy, Debug)]
pub struct TuningUtterance<'a> {
    pub reference: &'a [u8],
    pub log_posteriors: &'a [f32],
    pub frames: usize,
}

/// The values searched per parameter (each sorted ascending, no duplicates) and how often an
/// edge may be widened.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TuningGrid {
    pub lm_weight: Vec<f32>,
    /// Negative values are an insertion bonus.
    pub insertion_penalty: Vec<f32>,
    pub self_loop_prob: Vec<f32>,
    pub prior_scale: Vec<f32>,
    /// Shortest phone in frames (3 = the plain 3-state HMM).
    #[serde(default = "default_min_frames")]
    pub min_frames: Vec<u32>,
    /// Rounds of edge widening after the first grid (0 = the grid as given).
    pub max_widenings: usize,
}

impl Default for TuningGrid {
    /// The grid of issue #17's PyTorch baseline (self-loop 0.1–0.8, LM weight 0–8, insertion
    /// −8…+4 as a penalty, i.e. bonus up to 8) with the prior scale added.
    fn default() -> Self {
        TuningGrid {
            lm_weight: vec![0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0],
            insertion_penalty: (-8..=4).map(|v| v as f32).collect(),
            self_loop_prob: vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8],
            prior_scale: vec![0.0, 0.25, 0.5, 0.75, 1.0],
            min_frames: MIN_FRAMES_DEFAULT.to_vec(),
            max_widenings: 4,
        }
    }
}

fn default_min_frames() -> Vec<u32> {
    vec![3]
}

/// The range each parameter may take when an edge is widened.
struct Range {
    min: f32,
    max: f32,
}

const LM_RANGE: Range = Range {
    min: 0.0,
    max: 64.0,
};
const PENALTY_RANGE: Range = Range {
    min: -64.0,
    max: 64.0,
};
const LOOP_RANGE: Range = Range {
    min: 0.01,
    max: 0.99,
};
const PRIOR_RANGE: Range = Range { min: 0.0, max: 2.0 };

impl TuningGrid {
    /// A grid with exactly these values and no widening.
    pub fn fixed(
        lm_weight: Vec<f32>,
        insertion_penalty: Vec<f32>,
        self_loop_prob: Vec<f32>,
        prior_scale: Vec<f32>,
        min_frames: Vec<u32>,
    ) -> Self {
        TuningGrid {
            lm_weight,
            insertion_penalty,
            self_loop_prob,
            prior_scale,
            min_frames,
            max_widenings: 0,
        }
    }

    /// Checks every axis is non-empty, finite, ascending and inside the parameter's range.
    pub fn validate(&self) -> Result<(), String> {
        for (name, values, range) in self.axes() {
            if values.is_empty() {
                return Err(format!("decoder grid `{name}` has no values"));
            }
            if let Some(v) = values
                .iter()
                .find(|v| !v.is_finite() || **v < range.min || **v > range.max)
            {
                return Err(format!(
                    "decoder grid `{name}`: {v} is outside {}..={}",
                    range.min, range.max
                ));
            }
            if values.windows(2).any(|w| w[0] >= w[1]) {
                return Err(format!("decoder grid `{name}` must be strictly ascending"));
            }
        }
        if self.min_frames.is_empty() {
            return Err("decoder grid `min_frames` has no values".into());
        }
        if let Some(m) = self
            .min_frames
            .iter()
            .find(|m| !(3..=MAX_MIN_FRAMES).contains(*m))
        {
            return Err(format!(
                "decoder grid `min_frames`: {m} is outside 3..={MAX_MIN_FRAMES}"
            ));
        }
        if self.min_frames.windows(2).any(|w| w[0] >= w[1]) {
            return Err("decoder grid `min_frames` must be strictly ascending".into());
        }
        Ok(())
    }

    /// Number of points of the grid as given.
    pub fn points(&self) -> usize {
        self.lm_weight.len()
            * self.insertion_penalty.len()
            * self.self_loop_prob.len()
            * self.prior_scale.len()
            * self.min_frames.len()
    }

    fn axes(&self) -> [(&'static str, &Vec<f32>, Range); 4] {
        [
            ("lm_weight", &self.lm_weight, LM_RANGE),
            ("insertion_penalty", &self.insertion_penalty, PENALTY_RANGE),
            ("self_loop_prob", &self.self_loop_prob, LOOP_RANGE),
            ("prior_scale", &self.prior_scale, PRIOR_RANGE),
        ]
    }

    fn axes_mut(&mut self) -> [(&mut Vec<f32>, Range); 4] {
        [
            (&mut self.lm_weight, LM_RANGE),
            (&mut self.insertion_penalty, PENALTY_RANGE),
            (&mut self.self_loop_prob, LOOP_RANGE),
            (&mut self.prior_scale, PRIOR_RANGE),
        ]
    }

    /// Every point, in a fixed order.
    fn all_points(&self) -> Vec<DecoderParams> {
        let mut out = Vec::with_capacity(self.points());
        for &lm_weight in &self.lm_weight {
            for &insertion_penalty in &self.insertion_penalty {
                for &self_loop_prob in &self.self_loop_prob {
                    for &prior_scale in &self.prior_scale {
                        for &min_frames in &self.min_frames {
                            out.push(DecoderParams {
                                lm_weight,
                                insertion_penalty,
                                self_loop_prob,
                                prior_scale,
                                min_frames,
                            });
                        }
                    }
                }
            }
        }
        out
    }

    /// Adds one step beyond each edge the best point sits on (where the range allows);
    /// returns whether any axis grew.
    fn widen_towards(&mut self, best: &DecoderParams) -> bool {
        let coords = [
            best.lm_weight,
            best.insertion_penalty,
            best.self_loop_prob,
            best.prior_scale,
        ];
        let mut grew = false;
        for ((values, range), v) in self.axes_mut().into_iter().zip(coords) {
            let n = values.len();
            if n < 2 {
                continue;
            }
            if v == values[0] {
                let next = values[0] - (values[1] - values[0]);
                let next = next.max(range.min);
                if next < values[0] {
                    values.insert(0, next);
                    grew = true;
                }
            } else if v == values[n - 1] {
                let next = values[n - 1] + (values[n - 1] - values[n - 2]);
                let next = next.min(range.max);
                if next > values[n - 1] {
                    values.push(next);
                    grew = true;
                }
            }
        }
        let m = &mut self.min_frames;
        if m.len() >= 2 {
            if best.min_frames == m[0] && m[0] > 3 {
                let next = m[0].saturating_sub(m[1] - m[0]).max(3);
                m.insert(0, next);
                grew = true;
            } else if best.min_frames == m[m.len() - 1] && m[m.len() - 1] < MAX_MIN_FRAMES {
                let next = (2 * m[m.len() - 1] - m[m.len() - 2]).min(MAX_MIN_FRAMES);
                m.push(next);
                grew = true;
            }
        }
        grew
    }
}

/// What a tuning run found.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TuningOutcome {
    /// The parameters with the fewest errors.
    pub best: DecoderParams,
    pub best_errors: ErrorCountsSummary,
    /// The grid as last widened.
    pub grid: TuningGrid,
    /// Grid points decoded.
    pub evaluated: usize,
    /// Widening rounds used.
    pub widenings: usize,
}

/// [`ErrorCounts`] with its PER, for reports.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ErrorCountsSummary {
    pub substitutions: usize,
    pub deletions: usize,
    pub insertions: usize,
    pub reference_len: usize,
    pub per: f64,
}

impl From<ErrorCounts> for ErrorCountsSummary {
    fn from(c: ErrorCounts) -> Self {
        ErrorCountsSummary {
            substitutions: c.substitutions,
            deletions: c.deletions,
            insertions: c.insertions,
            reference_len: c.reference_len,
            per: c.per(),
        }
    }
}

/// Progress of a tuning run: `done` of `total` points of the current round, best PER so far.
#[derive(Clone, Copy, Debug)]
pub struct TuningProgress {
    pub round: usize,
    pub done: usize,
    pub total: usize,
    pub best_per: f64,
}

/// Total edit errors of decoding every utterance with `decoder` (in utterance order).
pub fn count_errors(decoder: &Decoder, utterances: &[TuningUtterance<'_>]) -> ErrorCounts {
    let mut total = ErrorCounts::default();
    for u in utterances {
        total.add(&align(
            u.reference,
            &decoder.decode(u.log_posteriors, u.frames),
        ));
    }
    total
}

/// Key of a point for the cache of decoded points (exact f32 values, ordered like the values).
fn key(p: &DecoderParams) -> [u32; 5] {
    let f = [
        p.lm_weight,
        p.insertion_penalty,
        p.self_loop_prob,
        p.prior_scale,
    ]
    .map(|v| {
        v.to_bits()
            ^ if v.is_sign_negative() {
                u32::MAX
            } else {
                1 << 31
            }
    });
    [f[0], f[1], f[2], f[3], p.min_frames]
}

/// Whether `a` is a better result than `b`: fewer errors, ties to the smaller parameters.
fn better(a: (&DecoderParams, usize), b: (&DecoderParams, usize)) -> bool {
    a.1 < b.1 || (a.1 == b.1 && key(a.0) < key(b.0))
}

/// Searches `grid` (widening edges) for the parameters with the fewest errors on `utterances`,
/// decoding with `bigram` and `priors`; `progress` is told after every chunk of points.
pub fn tune_decoder(
    bigram: &PhoneBigram,
    priors: &StatePriors,
    utterances: &[TuningUtterance<'_>],
    grid: &TuningGrid,
    progress: &mut dyn FnMut(TuningProgress),
) -> Result<TuningOutcome, String> {
    grid.validate()?;
    let mut grid = grid.clone();
    let mut done: BTreeMap<[u32; 5], (DecoderParams, ErrorCounts)> = BTreeMap::new();
    let mut best: Option<(DecoderParams, ErrorCounts)> = None;
    let mut widenings = 0;
    for round in 0.. {
        let todo: Vec<DecoderParams> = grid
            .all_points()
            .into_iter()
            .filter(|p| !done.contains_key(&key(p)))
            .collect();
        let total = todo.len();
        for (i, chunk) in todo.chunks(CHUNK).enumerate() {
            let scored: Vec<ErrorCounts> = chunk
                .par_iter()
                .map(|p| {
                    let decoder = Decoder::new(bigram.clone(), priors.clone(), p.clone());
                    count_errors(&decoder, utterances)
                })
                .collect();
            for (p, c) in chunk.iter().zip(scored) {
                let is_better = best
                    .as_ref()
                    .is_none_or(|(bp, bc)| better((p, c.errors()), (bp, bc.errors())));
                if is_better {
                    best = Some((p.clone(), c));
                }
                done.insert(key(p), (p.clone(), c));
            }
            progress(TuningProgress {
                round,
                done: (i * CHUNK + chunk.len()).min(total),
                total,
                best_per: best.as_ref().map_or(f64::NAN, |(_, c)| c.per()),
            });
        }
        let Some((best_params, _)) = &best else {
            break;
        };
        if widenings >= grid.max_widenings || !grid.widen_towards(best_params) {
            break;
        }
        widenings += 1;
    }
    let (best, counts) = best.ok_or("decoder grid has no points")?;
    Ok(TuningOutcome {
        best,
        best_errors: counts.into(),
        grid,
        evaluated: done.len(),
        widenings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widening_adds_a_step_beyond_the_edge_within_the_range() {
        let mut g = TuningGrid::fixed(
            vec![0.0, 1.0],
            vec![-1.0, 0.0],
            vec![0.5],
            vec![0.5, 1.0],
            vec![3, 4],
        );
        let best = DecoderParams {
            lm_weight: 0.0,
            insertion_penalty: 0.0,
            self_loop_prob: 0.5,
            prior_scale: 1.0,
            min_frames: 4,
        };
        assert!(g.widen_towards(&best));
        // LM weight cannot go below 0; the penalty and the prior scale grow by one step.
        assert_eq!(g.lm_weight, vec![0.0, 1.0]);
        assert_eq!(g.insertion_penalty, vec![-1.0, 0.0, 1.0]);
        assert_eq!(g.self_loop_prob, vec![0.5]);
        assert_eq!(g.prior_scale, vec![0.5, 1.0, 1.5]);
        assert_eq!(g.min_frames, vec![3, 4, 5]);
        // Inside on every axis but the LM weight, whose edge 0 is its range's end.
        let inside = DecoderParams {
            lm_weight: 0.0,
            insertion_penalty: 0.0,
            self_loop_prob: 0.5,
            prior_scale: 1.0,
            min_frames: 4,
        };
        assert!(!g.widen_towards(&inside));
    }

    #[test]
    fn keys_order_like_the_values() {
        let p = |v: f32| DecoderParams {
            lm_weight: v,
            ..DecoderParams::default()
        };
        let values = [-3.0f32, -0.5, 0.0, 0.25, 2.0];
        for w in values.windows(2) {
            assert!(key(&p(w[0])) < key(&p(w[1])), "{} vs {}", w[0], w[1]);
        }
    }

    #[test]
    fn bad_grids_are_refused_by_name() {
        let mut g = TuningGrid {
            self_loop_prob: vec![0.5, 0.3],
            ..TuningGrid::default()
        };
        assert!(g.validate().unwrap_err().contains("self_loop_prob"));
        g = TuningGrid::default();
        g.lm_weight.clear();
        assert!(g.validate().unwrap_err().contains("lm_weight"));
        g = TuningGrid::default();
        g.prior_scale.push(f32::NAN);
        assert!(g.validate().unwrap_err().contains("prior_scale"));
    }
}
