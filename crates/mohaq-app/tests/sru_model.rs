//! The SRU adapter on a tiny randomly initialised model and a handful of synthetic utterances:
//! gene mapping, workload, determinism under rayon, frozen test evaluation, beacon weights I/O,
//! export and inference. No training, no corpus: seconds.

use std::path::Path;

use mohaq_app::export::write_quantized;
use mohaq_app::search_model::SearchModel;
use mohaq_app::sru_model::{bit_config, RetrainSettings, SruModel};
use mohaq_beacon::{ErrorModel, LayerBits, Retrainer};
use mohaq_sru::decode::{DecoderParams, PhoneBigram, StatePriors};
use mohaq_sru::deploy::{companion_path, Recogniser};
use mohaq_sru::features::{Dataset, Utterance};
use mohaq_sru::model::{ModelBundle, ModelConfig, ModelParams};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

const TINY: &str = r#"
[model]
name = "tiny"
input_dim = 23
hidden = 8
projection = 6
layers = 4
classes = 117
"#;

fn dataset(seed: u64, n: usize) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let utterances = (0..n)
        .map(|i| {
            let frames = 30 + 7 * i;
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

fn tiny_bundle() -> ModelBundle {
    let config = ModelConfig::from_toml_str(TINY, Path::new("tiny.toml")).unwrap();
    let train = dataset(7, 6);
    ModelBundle {
        params: ModelParams::init(&config, 3),
        bigram: PhoneBigram::estimate(&train),
        priors: StatePriors::from_dataset(&train),
        decoder_params: DecoderParams::default(),
    }
}

fn tiny_model() -> SruModel {
    SruModel::from_parts(
        tiny_bundle(),
        &dataset(1, 4),
        &dataset(2, 3),
        RetrainSettings::default(),
    )
    .unwrap()
}

fn mixed() -> LayerBits {
    LayerBits::from_paper_genes(&[8, 4, 4, 2, 8, 4, 4, 4, 4, 2, 4, 8, 4, 4, 4, 2]).unwrap()
}

#[test]
fn genes_map_to_the_same_layers_as_mohaq_sru() {
    let bundle = tiny_bundle();
    let genes = mixed().paper_genes();
    let ours = bit_config(&mixed()).unwrap();
    let theirs =
        mohaq_sru::quantized::BitConfig::from_genes(&bundle.params.config, &genes).unwrap();
    assert_eq!(ours, theirs);
}

#[test]
fn workload_is_the_model_layer_table() {
    let model = tiny_model();
    let w = model.workload();
    let layers = model.config().matrix_layers();
    assert_eq!(w.layers().len(), 8);
    let total: usize = layers.iter().map(|l| l.weights).sum();
    assert_eq!(w.total_weights(), total as u64);
    assert_eq!(
        w.elementwise_params(),
        model.config().elementwise_params() as u64
    );
}

/// The bit patterns of `model.error` on each candidate in turn.
fn one_by_one_error_bits<M: ErrorModel>(model: &M, candidates: &[LayerBits]) -> Vec<u64> {
    candidates
        .iter()
        .map(|b| model.error(b, None).unwrap().to_bits())
        .collect()
}

/// The bit patterns of one `model.errors` batch.
fn batch_error_bits<M: ErrorModel>(model: &M, candidates: &[LayerBits]) -> Vec<u64> {
    model
        .errors(candidates)
        .into_iter()
        .map(|e| e.unwrap().to_bits())
        .collect()
}

#[test]
fn batch_errors_equal_single_errors_with_and_without_the_cache() {
    let mut candidates = vec![LayerBits::uniform(16), LayerBits::uniform(4), mixed()];
    for k in 0..6u32 {
        let g: Vec<u32> = (0..16)
            .map(|i| [2, 4, 8, 16][((i * 7 + k * 3) % 4) as usize])
            .collect();
        candidates.push(LayerBits::from_paper_genes(&g).unwrap());
    }
    candidates.push(mixed());
    let cached = tiny_model().with_cache_mb(64);
    let plain = tiny_model().with_cache_mb(0);
    assert!(plain.reuse_report().is_none());
    let want = one_by_one_error_bits(&plain, &candidates);
    for model in [&cached, &plain] {
        for _ in 0..2 {
            assert_eq!(batch_error_bits(model, &candidates), want);
        }
    }
    let reuse = cached.reuse_report().unwrap();
    // The second batch is the first again: every step of it comes from the cache or the batch.
    assert_eq!(reuse.steps_needed, 2 * 8 * candidates.len() as u64);
    assert!(reuse.steps_reused_from_cache > 0, "{reuse:?}");
    assert!(reuse.cache_bytes_held <= 64 << 20);
}

/// `mohaq search` and the Slurm worker hold the model as a `SearchModel`: its batches must
/// reach the SRU's batch evaluation and cache (same values), and its reuse must be reported.
#[test]
fn a_search_model_passes_batches_and_the_reuse_report_through() {
    let candidates = vec![
        LayerBits::uniform(8),
        mixed(),
        LayerBits::uniform(8),
        mixed(),
    ];
    let want = one_by_one_error_bits(&tiny_model().with_cache_mb(0), &candidates);
    let model = SearchModel::Sru(Box::new(tiny_model().with_cache_mb(64)));
    assert_eq!(batch_error_bits(&model, &candidates), want);
    let reuse = model.reuse_report().expect("the SRU's cache is reported");
    assert_eq!(reuse.steps_needed, 8 * candidates.len() as u64);
    assert!(reuse.steps_reused_in_batch > 0, "{reuse:?}");
}

#[test]
fn errors_are_deterministic_under_parallel_calls() {
    let model = tiny_model();
    let candidates = [LayerBits::uniform(16), LayerBits::uniform(4), mixed()];
    let sequential: Vec<f64> = candidates
        .iter()
        .map(|b| model.error(b, None).unwrap())
        .collect();
    let parallel: Vec<f64> = (0..12)
        .into_par_iter()
        .map(|i| model.error(&candidates[i % 3], None).unwrap())
        .collect();
    for (i, e) in parallel.iter().enumerate() {
        assert_eq!(e.to_bits(), sequential[i % 3].to_bits());
    }
    for e in &sequential {
        assert!((0.0..=1000.0).contains(e), "{e}");
    }
    let float = model.float_error().unwrap();
    assert!(float.is_finite() && float >= 0.0);
    let test = model.test_error(&mixed(), None).unwrap();
    assert!(test.is_finite() && test >= 0.0);
}

#[test]
fn beacon_weights_round_trip_and_score_like_the_base() {
    let model = tiny_model();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("beacon.safetensors");
    let weights = model.weights_from_params(model.bundle().params.clone());
    model.save(&weights, &path).unwrap();
    let loaded = model.load(&path).unwrap();
    let bits = mixed();
    let base = model.error(&bits, None).unwrap();
    assert_eq!(
        model.error(&bits, Some(&loaded)).unwrap().to_bits(),
        base.to_bits()
    );
    assert!(model.identity().contains("tiny"));
    // Without a config with a [train] section retraining is refused with an error.
    assert!(model.retrain(&bits, 1, dir.path()).is_err());
}

#[test]
fn exported_model_recognises_like_the_frozen_engine() {
    let model = tiny_model();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("q.safetensors");
    let bits = mixed();
    let summary = write_quantized(&model, None, &bits, &out).unwrap();
    assert!(companion_path(&out).is_file());
    assert_eq!(summary.alphas.len(), 8);
    let packed = mohaq_quant::load_packed(&out).unwrap();
    assert_eq!(packed.len(), 8);
    assert_eq!(packed["L3"].bits().bits(), 2);
    assert_eq!(packed["FC"].bits().bits(), 4);
    let recogniser = Recogniser::open(&out, None).unwrap();
    assert!(recogniser.frozen());
    let utt = &dataset(9, 1).utterances[0];
    let from_file = recogniser.recognise(&utt.feats, 23).unwrap();
    assert_eq!(from_file.frames, utt.num_frames());
    // The same widths and thresholds straight from the bundle give the same phones.
    let direct = Recogniser::from_bundle(
        model.bundle().clone(),
        bit_config(&bits).unwrap(),
        None,
        Some(summary.alphas.clone()),
    )
    .unwrap();
    assert_eq!(direct.recognise(&utt.feats, 23).unwrap(), from_file);
    assert!(recogniser.recognise(&utt.feats[..5], 5).is_err());
}
