//! Decoder tuning on synthetic posteriors whose best parameters are known by construction:
//! the search finds them, equals a brute force over the same grid, widens an edge to reach
//! them, and gives the same answer at any thread count.

use mohaq_sru::decode::tuning::count_errors;
use mohaq_sru::decode::{
    align, tune_decoder, Decoder, DecoderParams, PhoneBigram, StatePriors, TuningGrid,
    TuningUtterance,
};
use mohaq_sru::features::{class_of, NUM_CLASSES};

/// Log posteriors with `sharpness` of the mass on the true class of each frame.
fn posteriors(targets: &[u32], sharpness: f32) -> Vec<f32> {
    let on = sharpness.ln();
    let off = ((1.0 - sharpness) / (NUM_CLASSES as f32 - 1.0)).ln();
    let mut out = vec![off; targets.len() * NUM_CLASSES];
    for (t, &c) in targets.iter().enumerate() {
        out[t * NUM_CLASSES + c as usize] = on;
    }
    out
}

/// Frame targets of phones with given durations (split in thirds like the front end).
fn targets_of(phones: &[u8], durations: &[usize]) -> Vec<u32> {
    let mut out = Vec::new();
    for (&p, &d) in phones.iter().zip(durations) {
        for i in 0..d {
            out.push(class_of(p, ((i * 3) / d).min(2) as u8));
        }
    }
    out
}

/// Phone 1 (9 sharp frames), then `d` frames where phone 3 scores 0.6 and phone 2 (the truth)
/// 0.3: acoustically phone 3 wins by d ln 2 (6.24 for d = 9).
fn ambiguous_utterance(d: usize) -> (Vec<u8>, Vec<f32>, usize) {
    let mut post = posteriors(&targets_of(&[1, 2], &[9, d]), 0.9);
    for t in 9..9 + d {
        let row = &mut post[t * NUM_CLASSES..(t + 1) * NUM_CLASSES];
        for third in 0..3u8 {
            let two = class_of(2, third) as usize;
            let three = class_of(3, third) as usize;
            if row[two] > row[three] {
                row[three] = 0.6f32.ln();
                row[two] = 0.3f32.ln();
            }
        }
    }
    (vec![1, 2], post, 9 + d)
}

/// The bigram of ten `1 2` sentences (smoothing 0.5): `1 → 2` and `2 → </s>` beat `1 → 3` and
/// `3 → </s>` by ln 21 + ln 14 = 5.68, so the LM weight must exceed d ln 2 / 5.68 (1.10 for
/// d = 9).
fn one_two_bigram() -> PhoneBigram {
    let seqs: Vec<&[u8]> = vec![&[1, 2]; 10];
    PhoneBigram::from_sequences(seqs, 0.5)
}

fn utterances(data: &[(Vec<u8>, Vec<f32>, usize)]) -> Vec<TuningUtterance<'_>> {
    data.iter()
        .map(|(r, lp, f)| TuningUtterance {
            reference: r,
            log_posteriors: lp,
            frames: *f,
        })
        .collect()
}

/// Fewest errors over every point, ties to the lexicographically smallest parameters.
fn brute_force(
    bigram: &PhoneBigram,
    priors: &StatePriors,
    utts: &[TuningUtterance<'_>],
    grid: &TuningGrid,
) -> (DecoderParams, usize) {
    let mut best: Option<(DecoderParams, usize)> = None;
    for &lm_weight in &grid.lm_weight {
        for &insertion_penalty in &grid.insertion_penalty {
            for &self_loop_prob in &grid.self_loop_prob {
                for &prior_scale in &grid.prior_scale {
                    for &min_frames in &grid.min_frames {
                        let p = DecoderParams {
                            lm_weight,
                            insertion_penalty,
                            self_loop_prob,
                            prior_scale,
                            min_frames,
                        };
                        let d = Decoder::new(bigram.clone(), priors.clone(), p.clone());
                        let errors: usize = utts
                            .iter()
                            .map(|u| {
                                align(u.reference, &d.decode(u.log_posteriors, u.frames)).errors()
                            })
                            .sum();
                        // Visited in ascending order, so only strictly fewer errors replace.
                        if best.as_ref().is_none_or(|(_, e)| errors < *e) {
                            best = Some((p, errors));
                        }
                    }
                }
            }
        }
    }
    best.unwrap()
}

#[test]
fn the_lm_weight_the_fixture_needs_is_found_and_equals_the_brute_force() {
    let data = vec![ambiguous_utterance(9)];
    let utts = utterances(&data);
    let bigram = one_two_bigram();
    let priors = StatePriors::uniform();
    let grid = TuningGrid::fixed(
        vec![0.0, 0.5, 1.0, 1.25, 2.0],
        vec![-1.0, 0.0, 1.0],
        vec![0.3, 0.5],
        vec![0.0, 1.0],
        vec![3, 4],
    );
    let mut reports = 0;
    let out = tune_decoder(&bigram, &priors, &utts, &grid, &mut |_| reports += 1).unwrap();
    assert!(reports > 0, "progress is reported");
    assert_eq!(out.evaluated, grid.points());
    // By construction: 1.0 is too little LM, 1.25 enough; every other axis ties, so the smallest
    // value of each wins.
    assert_eq!(
        out.best_errors.substitutions + out.best_errors.insertions + out.best_errors.deletions,
        0
    );
    assert_eq!(
        out.best,
        DecoderParams {
            lm_weight: 1.25,
            insertion_penalty: -1.0,
            self_loop_prob: 0.3,
            prior_scale: 0.0,
            min_frames: 3,
        }
    );
    let (brute, errors) = brute_force(&bigram, &priors, &utts, &grid);
    assert_eq!(out.best, brute);
    assert_eq!(errors, 0);
    // The defaults (LM weight 1) decode phone 3: one substitution.
    let d = Decoder::new(bigram, priors, DecoderParams::default());
    assert_eq!(count_errors(&d, &utts).errors(), 1);
}

#[test]
fn an_edge_is_widened_until_the_best_is_inside() {
    // Ambiguous stretches of 3, 5, 7 and 9 frames need LM weights above 0.37, 0.61, 0.85 and
    // 1.10: every step of 0.25 from 0.5 to 1.25 removes one error.
    let data: Vec<_> = [3, 5, 7, 9].into_iter().map(ambiguous_utterance).collect();
    let utts = utterances(&data);
    let mut grid = TuningGrid::fixed(vec![0.25, 0.5], vec![0.0], vec![0.5], vec![1.0], vec![3]);
    grid.max_widenings = 10;
    let bigram = one_two_bigram();
    let out = tune_decoder(&bigram, &StatePriors::uniform(), &utts, &grid, &mut |_| {}).unwrap();
    // 0.5 (edge) → 0.75 → 1.0 → 1.25 (no error, on the edge) → 1.5 (no better): 4 rounds.
    assert_eq!(out.best.lm_weight, 1.25);
    assert_eq!(out.best_errors.per, 0.0);
    assert_eq!(out.widenings, 4);
    assert_eq!(out.grid.lm_weight, vec![0.25, 0.5, 0.75, 1.0, 1.25, 1.5]);
    assert_eq!(out.evaluated, 6);
    // Without widening the best is the grid's edge, with 3 of the 4 utterances wrong.
    grid.max_widenings = 0;
    let out = tune_decoder(&bigram, &StatePriors::uniform(), &utts, &grid, &mut |_| {}).unwrap();
    assert_eq!(out.best.lm_weight, 0.5);
    assert_eq!(out.best_errors.substitutions, 3);
}

#[test]
fn a_weak_short_phone_needs_an_insertion_bonus() {
    // Phone 4, then 3 frames where phone 9 (the truth) scores 0.35 against phone 4's 0.45, then
    // phone 5: keeping 9 loses 3 ln(0.45/0.35) = 0.75 acoustically and costs one more phone
    // entry, so only a bonus (negative penalty) larger than 0.75 keeps it.
    let mut post = posteriors(&targets_of(&[4, 9, 5], &[12, 3, 12]), 0.9);
    for (i, t) in (12..15).enumerate() {
        let row = &mut post[t * NUM_CLASSES..(t + 1) * NUM_CLASSES];
        row[class_of(9, i as u8) as usize] = 0.35f32.ln();
        row[class_of(4, 2) as usize] = 0.45f32.ln();
    }
    let data = vec![(vec![4u8, 9, 5], post, 27)];
    let utts = utterances(&data);
    let grid = TuningGrid::fixed(
        vec![0.0],
        vec![-1.0, -0.5, 0.0, 1.0],
        vec![0.5],
        vec![0.0],
        vec![3],
    );
    let flat = PhoneBigram::uniform();
    let out = tune_decoder(&flat, &StatePriors::uniform(), &utts, &grid, &mut |_| {}).unwrap();
    assert_eq!(out.best.insertion_penalty, -1.0);
    assert_eq!(out.best_errors.per, 0.0);
    let at = |pen: f32| {
        let p = DecoderParams {
            lm_weight: 0.0,
            insertion_penalty: pen,
            prior_scale: 0.0,
            ..DecoderParams::default()
        };
        count_errors(
            &Decoder::new(flat.clone(), StatePriors::uniform(), p),
            &utts,
        )
    };
    assert_eq!(at(-0.5).deletions, 1, "a bonus of 0.5 is not enough");
    assert_eq!(at(0.0).deletions, 1);
}

#[test]
fn the_result_is_the_same_at_any_thread_count() {
    let mut data = vec![ambiguous_utterance(9)];
    data.push((
        vec![5, 6],
        posteriors(&targets_of(&[5, 6], &[7, 11]), 0.5),
        18,
    ));
    let utts = utterances(&data);
    let grid = TuningGrid::default();
    let bigram = one_two_bigram();
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                tune_decoder(&bigram, &StatePriors::uniform(), &utts, &grid, &mut |_| {}).unwrap()
            })
    };
    assert_eq!(run(1), run(3));
}

#[test]
fn a_bad_grid_is_refused_with_the_axis_named() {
    let data = vec![ambiguous_utterance(9)];
    let utts = utterances(&data);
    let grid = TuningGrid::fixed(vec![0.0], vec![0.0], vec![0.5], vec![0.0], vec![2]);
    let err = tune_decoder(
        &one_two_bigram(),
        &StatePriors::uniform(),
        &utts,
        &grid,
        &mut |_| {},
    )
    .unwrap_err();
    assert!(err.contains("min_frames"), "{err}");
}
