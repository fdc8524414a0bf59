//! Viterbi decoding over a phone loop.
//!
//! Each of the 39 phones is a left-to-right HMM over the three frame classes of that phone; any
//! phone may follow any other, weighted by the bigram. Per frame, a state's score is its scaled
//! log likelihood `log P(s|x) - prior_scale * log P(s)` plus the best of staying (self-loop) or
//! advancing; entering a phone adds `lm_weight * log P(p | q)` and subtracts the insertion
//! penalty. A phone lasts at least `min_frames` frames (at least 3): with more than 3, each class
//! gets a chain of sub-states, of which only the last has a self-loop (extra frames go to the
//! first class, then the second, then the third). The search is exact (no pruning): 39 × sub-states
//! per frame and 39×39 phone transitions.

use crate::data::phones::NUM_PHONES;
use crate::features::NUM_CLASSES;
use mohaq_quant::{vectorized, SimdLevel};

use super::bigram::PhoneBigram;
use super::priors::StatePriors;

/// Frame classes per phone (the HMM's three states).
const CLASSES_PER_PHONE: usize = 3;
/// The most sub-states a phone may have (`min_frames` is capped here).
pub const MAX_MIN_FRAMES: u32 = 16;
/// Phones rounded up to a multiple of 8 (whole AVX registers of f32).
const PADDED: usize = NUM_PHONES.div_ceil(8) * 8;

vectorized! {
    /// The best way into every phone `p` from the end of a phone `q`: `best[p] = max_q exits[q] +
    /// entry_to[q][p]` and the first `q` reaching it (0 when none does). One pass per predecessor
    /// over all next phones at once, so the loop runs across phones in SIMD lanes and the argmax
    /// comes with the maximum; a strict comparison keeps the first predecessor on a tie.
    fn best_entries(
        exits: &[f32],
        entry_to: &[f32],
        best: &mut [f32; PADDED],
        from: &mut [u32; PADDED],
    ) {
        best.fill(f32::NEG_INFINITY);
        from.fill(0);
        for (q, (&x, row)) in exits.iter().zip(entry_to.chunks_exact(PADDED)).enumerate() {
            for ((b, f), &lm) in best.iter_mut().zip(from.iter_mut()).zip(row) {
                let v = x + lm;
                let better = v > *b;
                *b = if better { v } else { *b };
                *f = if better { q as u32 } else { *f };
            }
        }
    }
}

/// Backpointer of a phone's first state: it stayed (rather than entered from a phone).
const STAYED: u8 = u8::MAX;

/// Decoder tuning parameters.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DecoderParams {
    /// Weight of the bigram log probabilities relative to the acoustic scores.
    pub lm_weight: f32,
    /// Subtracted from the score at every phone entry: larger values give fewer, longer phones.
    pub insertion_penalty: f32,
    /// Probability of staying in an HMM state for one more frame (the rest goes to the next state).
    pub self_loop_prob: f32,
    /// Exponent of the state priors the posteriors are divided by (0 = use posteriors as they are).
    pub prior_scale: f32,
    /// Shortest phone in frames (3 = one frame per HMM state; values below 3 act as 3, above
    /// [`MAX_MIN_FRAMES`] as that). Absent in older bundles: 3.
    #[serde(default = "default_min_frames")]
    pub min_frames: u32,
}

fn default_min_frames() -> u32 {
    CLASSES_PER_PHONE as u32
}

impl Default for DecoderParams {
    fn default() -> Self {
        DecoderParams {
            lm_weight: 1.0,
            insertion_penalty: 0.0,
            self_loop_prob: 0.5,
            prior_scale: 1.0,
            min_frames: default_min_frames(),
        }
    }
}

/// A phone-loop Viterbi decoder with its language model and priors precomputed.
#[derive(Clone, Debug)]
pub struct Decoder {
    params: DecoderParams,
    /// `lm_weight * log P(next | prev) - insertion_penalty` at `prev * PADDED + next` (rows
    /// padded with -inf).
    entry_to: Vec<f32>,
    /// `lm_weight * log P(p | <s>) - insertion_penalty`.
    entry_start: Vec<f32>,
    /// `lm_weight * log P(</s> | p)`.
    exit_end: Vec<f32>,
    /// `prior_scale * log P(s)`, subtracted from the log posteriors.
    scaled_log_priors: Vec<f32>,
    log_stay: f32,
    log_advance: f32,
    /// Sub-states per phone (`max(3, min_frames)`).
    subs: usize,
    /// Frame class (0–2 within the phone) of each sub-state.
    sub_class: Vec<usize>,
    /// Whether each sub-state has a self-loop (only the last of its class).
    sub_loops: Vec<bool>,
}

/// The sub-state chain of a phone lasting at least `min_frames`: (class, has self-loop) each.
fn sub_states(min_frames: u32) -> Vec<(usize, bool)> {
    let subs = (min_frames.clamp(CLASSES_PER_PHONE as u32, MAX_MIN_FRAMES)) as usize;
    let extra = subs - CLASSES_PER_PHONE;
    let mut chain = Vec::with_capacity(subs);
    for class in 0..CLASSES_PER_PHONE {
        let count = 1 + extra / CLASSES_PER_PHONE + usize::from(class < extra % CLASSES_PER_PHONE);
        for i in 0..count {
            chain.push((class, i + 1 == count));
        }
    }
    chain
}

impl Decoder {
    pub fn new(bigram: PhoneBigram, priors: StatePriors, params: DecoderParams) -> Self {
        let n = NUM_PHONES;
        let w = params.lm_weight;
        let pen = params.insertion_penalty;
        let mut entry_to = vec![f32::NEG_INFINITY; n * PADDED];
        for prev in 0..n {
            for next in 0..n {
                entry_to[prev * PADDED + next] = w * bigram.log_trans[prev * n + next] - pen;
            }
        }
        let entry_start = bigram.log_start.iter().map(|l| w * l - pen).collect();
        let exit_end = bigram.log_end.iter().map(|l| w * l).collect();
        let scaled_log_priors = priors
            .log_priors
            .iter()
            .map(|l| params.prior_scale * l)
            .collect();
        // Keep both transitions possible even for a degenerate self-loop setting.
        let stay = params.self_loop_prob.clamp(1e-6, 1.0 - 1e-6);
        let chain = sub_states(params.min_frames);
        Decoder {
            subs: chain.len(),
            sub_class: chain.iter().map(|c| c.0).collect(),
            sub_loops: chain.iter().map(|c| c.1).collect(),
            entry_to,
            entry_start,
            exit_end,
            scaled_log_priors,
            log_stay: stay.ln(),
            log_advance: (1.0 - stay).ln(),
            params,
        }
    }

    pub fn params(&self) -> &DecoderParams {
        &self.params
    }

    /// Decodes `num_frames x 117` log posteriors (row-major) to 39-phone ids, repeats merged.
    ///
    /// Rows beyond `log_posteriors.len() / 117` are ignored, so a short buffer cannot panic.
    pub fn decode(&self, log_posteriors: &[f32], num_frames: usize) -> Vec<u8> {
        let n = NUM_PHONES;
        let k = NUM_CLASSES;
        let l = self.subs;
        let states = n * l;
        let frames = num_frames.min(log_posteriors.len() / k);
        if frames == 0 {
            return Vec::new();
        }
        let mut backpointers = vec![0u8; frames * states];
        let mut prev = vec![f32::NEG_INFINITY; states];
        let mut cur = vec![f32::NEG_INFINITY; states];
        let mut emit = vec![0f32; k];
        let mut exits = vec![f32::NEG_INFINITY; n];
        let mut best_entry = [f32::NEG_INFINITY; PADDED];
        let mut best_from = [0u32; PADDED];
        let level = SimdLevel::detect();
        // Leaving sub-state j (to j + 1, or out of the phone from the last one).
        let leave: Vec<f32> = self
            .sub_loops
            .iter()
            .map(|&lp| if lp { self.log_advance } else { 0.0 })
            .collect();

        let emissions = |t: usize, emit: &mut [f32]| {
            let row = &log_posteriors[t * k..(t + 1) * k];
            for ((e, l), p) in emit.iter_mut().zip(row).zip(&self.scaled_log_priors) {
                *e = l - p;
            }
        };

        emissions(0, &mut emit);
        for p in 0..n {
            prev[p * l] = self.entry_start[p] + emit[p * CLASSES_PER_PHONE + self.sub_class[0]];
        }
        for t in 1..frames {
            emissions(t, &mut emit);
            for (q, x) in exits.iter_mut().enumerate() {
                *x = prev[q * l + l - 1] + leave[l - 1];
            }
            best_entries(
                level,
                &exits,
                &self.entry_to,
                &mut best_entry,
                &mut best_from,
            );
            let bp = &mut backpointers[t * states..(t + 1) * states];
            for p in 0..n {
                let s0 = p * l;
                let e0 = p * CLASSES_PER_PHONE;
                let best = best_entry[p];
                let stay0 = if self.sub_loops[0] {
                    prev[s0] + self.log_stay
                } else {
                    f32::NEG_INFINITY
                };
                let emit0 = emit[e0 + self.sub_class[0]];
                if self.sub_loops[0] && stay0 >= best {
                    cur[s0] = stay0 + emit0;
                    bp[s0] = STAYED;
                } else {
                    cur[s0] = best + emit0;
                    bp[s0] = best_from[p] as u8;
                }
                for j in 1..l {
                    let s = s0 + j;
                    let stay = if self.sub_loops[j] {
                        prev[s] + self.log_stay
                    } else {
                        f32::NEG_INFINITY
                    };
                    let advance = prev[s - 1] + leave[j - 1];
                    let e = emit[e0 + self.sub_class[j]];
                    if self.sub_loops[j] && stay >= advance {
                        cur[s] = stay + e;
                        bp[s] = 0;
                    } else {
                        cur[s] = advance + e;
                        bp[s] = 1;
                    }
                }
            }
            std::mem::swap(&mut prev, &mut cur);
        }

        // End in the last sub-state of some phone; if the utterance is too short, anywhere.
        let mut best_state = None;
        let mut best = f32::NEG_INFINITY;
        for p in 0..n {
            let v = prev[p * l + l - 1] + self.exit_end[p];
            if v > best {
                best = v;
                best_state = Some(p * l + l - 1);
            }
        }
        let mut state = best_state.unwrap_or_else(|| super::greedy::argmax(&prev));

        let mut phones = Vec::new();
        for t in (1..frames).rev() {
            let b = backpointers[t * states + state];
            if state % l == 0 {
                if b != STAYED {
                    phones.push((state / l) as u8);
                    state = usize::from(b) * l + l - 1;
                }
            } else if b == 1 {
                state -= 1;
            }
        }
        phones.push((state / l) as u8);
        phones.reverse();
        phones.dedup();
        phones
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The entry search as first written: per next phone, the maximum over predecessors and the
    /// first predecessor that reaches it (0 when none does).
    fn best_entries_reference(exits: &[f32], entry_to: &[f32], p: usize) -> (f32, u32) {
        let best = (0..exits.len())
            .map(|q| exits[q] + entry_to[q * PADDED + p])
            .fold(f32::NEG_INFINITY, |a, v| if v > a { v } else { a });
        let from = (0..exits.len())
            .position(|q| exits[q] + entry_to[q * PADDED + p] == best)
            .unwrap_or(0);
        (best, from as u32)
    }

    /// Scores drawn from a few values (so ties are common) and −∞.
    fn score() -> impl Strategy<Value = f32> {
        prop_oneof![
            4 => (-6i32..3).prop_map(|v| v as f32 * 0.5),
            1 => Just(f32::NEG_INFINITY),
        ]
    }

    proptest! {
        /// Every instruction set finds the reference's maximum and first argmax for every phone,
        /// ties and unreachable phones included.
        #[test]
        fn entry_search_matches_the_reference_on_every_level(
            exits in prop::collection::vec(score(), NUM_PHONES),
            lm in prop::collection::vec(score(), NUM_PHONES * NUM_PHONES),
        ) {
            let mut entry_to = vec![f32::NEG_INFINITY; NUM_PHONES * PADDED];
            for q in 0..NUM_PHONES {
                entry_to[q * PADDED..q * PADDED + NUM_PHONES]
                    .copy_from_slice(&lm[q * NUM_PHONES..(q + 1) * NUM_PHONES]);
            }
            for level in SimdLevel::available() {
                let mut best = [0f32; PADDED];
                let mut from = [7u32; PADDED];
                best_entries(level, &exits, &entry_to, &mut best, &mut from);
                for p in 0..NUM_PHONES {
                    let (b, f) = best_entries_reference(&exits, &entry_to, p);
                    prop_assert_eq!(best[p].to_bits(), b.to_bits(), "{:?} phone {}", level, p);
                    prop_assert_eq!(from[p], f, "{:?} phone {}", level, p);
                }
            }
        }
    }
}
