//! Decoding and scoring: Viterbi recovers the truth from sharp posteriors; PER by hand.

use mohaq_sru::data::phones::NUM_PHONES;
use mohaq_sru::decode::{
    align, greedy_decode, Decoder, DecoderParams, ErrorCounts, FrameAccuracy, PhoneBigram,
    StatePriors,
};
use mohaq_sru::features::{class_of, NUM_CLASSES};
use proptest::prelude::*;

/// Log posteriors that put `sharpness` of the mass on the true class of each frame.
fn posteriors(targets: &[u32], sharpness: f32) -> Vec<f32> {
    let on = sharpness.ln();
    let off = ((1.0 - sharpness) / (NUM_CLASSES as f32 - 1.0)).ln();
    let mut out = vec![off; targets.len() * NUM_CLASSES];
    for (t, &c) in targets.iter().enumerate() {
        out[t * NUM_CLASSES + c as usize] = on;
    }
    out
}

/// Frame targets of a phone sequence with given durations (split in thirds like the front end).
fn targets_of(phones: &[u8], durations: &[usize]) -> Vec<u32> {
    let mut out = Vec::new();
    for (&p, &d) in phones.iter().zip(durations) {
        for i in 0..d {
            out.push(class_of(p, ((i * 3) / d).min(2) as u8));
        }
    }
    out
}

fn flat_decoder(params: DecoderParams) -> Decoder {
    Decoder::new(PhoneBigram::uniform(), StatePriors::uniform(), params)
}

fn phone_sequence() -> impl Strategy<Value = (Vec<u8>, Vec<usize>)> {
    proptest::collection::vec((0u8..NUM_PHONES as u8, 3usize..15), 1..40).prop_map(|pairs| {
        let mut phones: Vec<u8> = Vec::new();
        let mut durations = Vec::new();
        for (p, d) in pairs {
            if phones.last() != Some(&p) {
                phones.push(p);
                durations.push(d);
            }
        }
        (phones, durations)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn viterbi_recovers_the_sequence_from_sharp_posteriors((phones, durations) in phone_sequence()) {
        let targets = targets_of(&phones, &durations);
        let post = posteriors(&targets, 0.9);
        let decoded = flat_decoder(DecoderParams::default()).decode(&post, targets.len());
        prop_assert_eq!(&decoded, &phones);
        prop_assert_eq!(greedy_decode(&post, targets.len()), phones);
    }

    #[test]
    fn errors_equal_the_edit_distance(
        r in proptest::collection::vec(0u8..5, 0..12),
        h in proptest::collection::vec(0u8..5, 0..12),
    ) {
        let c = align(&r, &h);
        prop_assert_eq!(c.errors(), levenshtein(&r, &h));
        prop_assert_eq!(c.reference_len, r.len());
        // Every reference phone is matched, substituted or deleted; every hypothesis phone is
        // matched, substituted or inserted.
        prop_assert!(c.substitutions + c.deletions <= r.len());
        prop_assert_eq!(r.len() - c.deletions, h.len() - c.insertions);
        prop_assert_eq!(align(&h, &r).errors(), c.errors());
    }
}

fn levenshtein(a: &[u8], b: &[u8]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, x) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(x != y))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[test]
fn per_by_hand() {
    let c = |s, d, i, n| ErrorCounts {
        substitutions: s,
        deletions: d,
        insertions: i,
        reference_len: n,
    };
    assert_eq!(align(&[1, 2, 3], &[1, 2, 3]), c(0, 0, 0, 3));
    assert_eq!(align(&[1, 2, 3], &[1, 5, 3]), c(1, 0, 0, 3));
    assert_eq!(align(&[1, 2, 3], &[1, 3]), c(0, 1, 0, 3));
    assert_eq!(align(&[1, 2, 3], &[1, 2, 4, 3]), c(0, 0, 1, 3));
    assert_eq!(align(&[1, 2, 3, 4], &[1, 9, 3, 4, 5]), c(1, 0, 1, 4));
    assert_eq!(align(&[1, 2], &[]), c(0, 2, 0, 2));
    assert_eq!(align(&[], &[7, 7]), c(0, 0, 2, 0));
    // Shifted sequence: one deletion at the front and one insertion at the back beat 4 substitutions.
    assert_eq!(align(&[1, 2, 3, 4], &[2, 3, 4, 5]), c(0, 1, 1, 4));
    assert!((align(&[1, 2, 3, 4], &[1, 9, 3, 4, 5]).per() - 50.0).abs() < 1e-12);
    let mut total = align(&[1, 2, 3], &[1, 3]);
    total.add(&align(&[4, 5, 6, 7, 8, 9, 10], &[4, 5, 6, 7, 8, 9, 10]));
    assert!(
        (total.per() - 10.0).abs() < 1e-12,
        "corpus PER = total errors / total length"
    );
    assert_eq!(ErrorCounts::default().per(), 0.0);
}

#[test]
fn viterbi_smooths_flicker_that_greedy_keeps() {
    // Phone 4 for 30 frames; every 7th frame the argmax flickers to phone 9.
    let phones = [4u8];
    let mut targets = targets_of(&phones, &[30]);
    let mut post = posteriors(&targets, 0.6);
    for t in (3..30).step_by(7) {
        let row = &mut post[t * NUM_CLASSES..(t + 1) * NUM_CLASSES];
        row[class_of(9, 1) as usize] = 0.7f32.ln();
        row[targets[t] as usize] = 0.25f32.ln();
        targets[t] = class_of(9, 1);
    }
    assert!(
        greedy_decode(&post, 30).len() > 5,
        "greedy inserts the flickers"
    );
    let decoder = flat_decoder(DecoderParams {
        insertion_penalty: 2.0,
        ..DecoderParams::default()
    });
    assert_eq!(decoder.decode(&post, 30), vec![4]);
}

#[test]
fn bigram_and_priors_break_acoustic_ties() {
    // Frames 0..9 are certainly phone 1; frames 9..18 are equally phone 2 or phone 3.
    let mut post = posteriors(&targets_of(&[1, 2], &[9, 9]), 0.9);
    for t in 9..18 {
        let row = &mut post[t * NUM_CLASSES..(t + 1) * NUM_CLASSES];
        for third in 0..3u8 {
            row[class_of(3, third) as usize] = row[class_of(2, third) as usize];
        }
    }
    let seqs: [&[u8]; 4] = [&[1, 3], &[1, 3], &[1, 3], &[1, 2]];
    let lm = PhoneBigram::from_sequences(seqs, 0.1);
    let decoder = Decoder::new(lm, StatePriors::uniform(), DecoderParams::default());
    assert_eq!(decoder.decode(&post, 18), vec![1, 3]);
    // Priors: phone 3's states are made frequent, so dividing by them favours phone 2.
    let mut frequent_three = vec![class_of(1, 0); 10];
    frequent_three.extend(std::iter::repeat_n(class_of(3, 0), 1000));
    frequent_three.extend(std::iter::repeat_n(class_of(3, 1), 1000));
    frequent_three.extend(std::iter::repeat_n(class_of(3, 2), 1000));
    let priors = StatePriors::from_targets([frequent_three.as_slice()]);
    let decoder = Decoder::new(PhoneBigram::uniform(), priors, DecoderParams::default());
    assert_eq!(decoder.decode(&post, 18), vec![1, 2]);
}

#[test]
fn short_and_empty_inputs_do_not_panic() {
    let decoder = flat_decoder(DecoderParams::default());
    assert!(decoder.decode(&[], 0).is_empty());
    let post = posteriors(&[class_of(5, 0), class_of(5, 1)], 0.9);
    assert_eq!(decoder.decode(&post, 2), vec![5]);
    // num_frames larger than the buffer is clipped to the buffer.
    assert_eq!(decoder.decode(&post, 10), vec![5]);
    assert!(greedy_decode(&[], 3).is_empty());
}

#[test]
fn frame_accuracy_counts_states_and_phones() {
    let targets = [
        class_of(1, 0),
        class_of(1, 1),
        class_of(2, 2),
        class_of(3, 0),
    ];
    let mut post = posteriors(&targets, 0.9);
    // Frame 1 predicts the wrong third of the right phone; frame 3 a wrong phone.
    post[NUM_CLASSES + class_of(1, 2) as usize] = 0.95f32.ln();
    post[3 * NUM_CLASSES + class_of(7, 0) as usize] = 0.95f32.ln();
    let acc = FrameAccuracy::measure(&post, &targets);
    assert_eq!(
        acc,
        FrameAccuracy {
            frames: 4,
            correct_states: 2,
            correct_phones: 3
        }
    );
    assert!((acc.state_accuracy() - 50.0).abs() < 1e-12);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// With a minimum phone duration of `m` frames, sequences whose phones all last at least `m`
    /// frames are still recovered from sharp posteriors.
    #[test]
    fn a_minimum_duration_keeps_phones_that_are_long_enough(
        (phones, durations) in phone_sequence(),
        m in 3u32..7,
    ) {
        let durations: Vec<usize> = durations.iter().map(|d| d + m as usize).collect();
        let targets = targets_of(&phones, &durations);
        let post = posteriors(&targets, 0.9);
        let decoder = flat_decoder(DecoderParams { min_frames: m, ..DecoderParams::default() });
        prop_assert_eq!(decoder.decode(&post, targets.len()), phones);
    }
}

#[test]
fn a_minimum_duration_removes_shorter_phones() {
    // Phone 6 lasts 3 frames between two long phones and is impossible in every other frame:
    // kept at the plain 3-state minimum, gone at a minimum of 4 frames (even with an insertion
    // bonus), and 3 is what older bundles get.
    let phones = [2u8, 6, 8];
    let targets = targets_of(&phones, &[10, 3, 10]);
    let mut post = posteriors(&targets, 0.9);
    for t in (0..23).filter(|t| !(10..13).contains(t)) {
        for third in 0..3u8 {
            post[t * NUM_CLASSES + class_of(6, third) as usize] = -1e4;
        }
    }
    let at = |m: u32| {
        flat_decoder(DecoderParams {
            min_frames: m,
            insertion_penalty: -5.0,
            ..DecoderParams::default()
        })
        .decode(&post, targets.len())
    };
    assert_eq!(at(3), vec![2, 6, 8]);
    assert_eq!(at(4), vec![2, 8]);
    assert_eq!(at(1), at(3), "values below 3 act as 3");
    let old: DecoderParams = serde_json::from_str(
        r#"{"lm_weight":1.0,"insertion_penalty":0.0,"self_loop_prob":0.5,"prior_scale":1.0}"#,
    )
    .unwrap();
    assert_eq!(old, DecoderParams::default());
}
