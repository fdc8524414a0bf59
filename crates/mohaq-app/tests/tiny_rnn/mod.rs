//! Shared by the LSTM/GRU tests: a tiny randomly initialised model of a given `[model]` table
//! (weights uniform in ±0.6, seeded) and synthetic utterances with phone-like frame targets.

use std::path::Path;

use mohaq_sru::decode::{DecoderParams, PhoneBigram, StatePriors};
use mohaq_sru::features::{Dataset, Utterance};
use mohaq_sru::rnn::params::expected_tensors;
use mohaq_sru::rnn::{Architecture, RnnBundle, RnnParams};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A 2-layer bidirectional LSTM, hidden 6: small enough for a test, every gene kind present.
pub const TINY_LSTM: &str = r#"
[model]
name = "tiny-lstm"
kind = "lstm"
input_dim = 23
hidden = 6
layers = 2
bidirectional = true
classes = 117
"#;

pub fn dataset(seed: u64, n: usize) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let utterances = (0..n)
        .map(|i| {
            let frames = 20 + 5 * i;
            let feats = (0..frames * 23)
                .map(|_| rng.random_range(-2.0..2.0))
                .collect();
            let mut targets = Vec::with_capacity(frames);
            let mut phones = Vec::new();
            while targets.len() < frames {
                let phone: u8 = rng.random_range(0..39);
                if phones.last() != Some(&phone) {
                    phones.push(phone);
                }
                for third in 0..3u32 {
                    for _ in 0..2 {
                        if targets.len() < frames {
                            targets.push(u32::from(phone) * 3 + third);
                        }
                    }
                }
            }
            Utterance {
                id: format!("u{i}"),
                speaker: format!("s{}", i % 2),
                dim: 23,
                feats,
                targets,
                phones,
            }
        })
        .collect();
    Dataset { utterances }
}

pub fn bundle(toml: &str) -> RnnBundle {
    let Architecture::Rnn(config) =
        Architecture::from_toml_str(toml, Path::new("tiny.toml")).unwrap()
    else {
        panic!("an LSTM config");
    };
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let values = expected_tensors(&config)
        .into_iter()
        .map(|(_, shape)| {
            let n: usize = shape.iter().product();
            (0..n).map(|_| rng.random_range(-0.6..0.6)).collect()
        })
        .collect();
    let train = dataset(7, 6);
    RnnBundle {
        params: RnnParams::from_ordered(&config, values),
        bigram: PhoneBigram::estimate(&train),
        priors: StatePriors::from_dataset(&train),
        decoder_params: DecoderParams::default(),
    }
}
