//! `mohaq export` and `mohaq infer` on LSTM/GRU models: an exported tiny LSTM (bidirectional)
//! and GRU (unidirectional, with a projection) recognise exactly as the evaluator's quantized
//! path at the same widths with thresholds frozen on the optimisation subset (what `mohaq eval`
//! and the search's test error use): log-probabilities bit for bit, the same phones. Damaged or
//! mismatched files are refused with errors that name the file and the fault.
//! No corpus: seconds.

use std::path::Path;

use mohaq_app::export::write_quantized_rnn;
use mohaq_app::rnn_model::RnnModel;
use mohaq_beacon::LayerBits;
use mohaq_sru::deploy::format::{BITS_KEY, KIND_KEY, VERSION_KEY};
use mohaq_sru::deploy::{companion_path, Recogniser};
use mohaq_sru::model::params::{read_tensors, write_tensors};
use mohaq_sru::quantized::ActivationMode;
use mohaq_sru::rnn::RnnQuantized;

mod tiny_rnn;

use tiny_rnn::TINY_LSTM;

const TINY_GRU: &str = r#"
[model]
name = "tiny-gru"
kind = "gru"
input_dim = 23
hidden = 5
layers = 2
bidirectional = false
classes = 117
projection = 4
"#;

/// Mixed widths in each model's gene order (L w, L a, R w, R a, [P w, P a,] FC w a).
const LSTM_GENES: &str = "8,4,16,8,4,2,16,16,4,8";
const GRU_GENES: &str = "8,4,16,8,4,2,16,16,8,8,4,8";

fn model(toml: &str) -> RnnModel {
    RnnModel::from_parts(
        tiny_rnn::bundle(toml),
        &tiny_rnn::dataset(1, 4),
        &tiny_rnn::dataset(2, 3),
    )
    .unwrap()
}

fn bits(model: &RnnModel, genes: &str) -> LayerBits {
    LayerBits::from_widths(&model.config().parse_bits(genes).unwrap())
}

fn export(model: &RnnModel, genes: &str, dir: &Path) -> std::path::PathBuf {
    let out = dir.join("q.safetensors");
    write_quantized_rnn(model, None, &bits(model, genes), &out).unwrap();
    out
}

fn exported_recognises_like_the_evaluator(toml: &str, genes: &str) {
    let model = model(toml);
    let dir = tempfile::tempdir().unwrap();
    let out = export(&model, genes, dir.path());
    assert!(companion_path(&out).is_file());
    let recogniser = Recogniser::open(&out, None).unwrap();
    assert!(recogniser.frozen());
    // The evaluator's path: the float bundle's engine at the same widths, thresholds frozen
    // on the optimisation (dev) subset.
    let widths = model.config().parse_bits(genes).unwrap();
    let alphas = model.frozen_activations(&widths, None).unwrap();
    let engine = RnnQuantized::new(model.bundle().params.clone());
    let decoder = model.bundle().decoder();
    for u in &tiny_rnn::dataset(2, 3).utterances {
        let frames = u.targets.len();
        let mut used = vec![0f32; widths.len()];
        let expected = engine
            .forward(
                &u.feats,
                frames,
                &widths,
                ActivationMode::Frozen(&alphas),
                &mut used,
            )
            .unwrap();
        let got = recogniser.forward(&u.feats, frames).unwrap();
        assert_eq!(got.len(), expected.len());
        assert!(
            got.iter()
                .zip(&expected)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{}: exported log-probabilities differ from the evaluator's",
            u.id
        );
        let phones: Vec<&str> = decoder
            .decode(&expected, frames)
            .into_iter()
            .map(|id| mohaq_sru::data::phones::PHONES39[id as usize])
            .collect();
        assert_eq!(recogniser.recognise(&u.feats, 23).unwrap().phones, phones);
    }
    // The test PER the search reports is what the export gives.
    let test_error = mohaq_beacon::ErrorModel::test_error(&model, &bits(&model, genes), None);
    assert!(test_error.unwrap().is_finite());
}

#[test]
fn exported_lstm_recognises_like_the_evaluator() {
    exported_recognises_like_the_evaluator(TINY_LSTM, LSTM_GENES);
}

#[test]
fn exported_gru_with_projection_recognises_like_the_evaluator() {
    exported_recognises_like_the_evaluator(TINY_GRU, GRU_GENES);
}

#[test]
fn exported_lstm_refuses_other_widths_and_a_float_bundle_takes_them() {
    let model = model(TINY_LSTM);
    let dir = tempfile::tempdir().unwrap();
    let out = export(&model, LSTM_GENES, dir.path());
    assert!(Recogniser::open(&out, Some(LSTM_GENES)).is_ok());
    let err = Recogniser::open(&out, Some("8")).err().unwrap().to_string();
    assert!(
        err.contains("q.safetensors") && err.contains("exported at widths"),
        "{err}"
    );
    // The float bundle runs at any widths, calibrated per utterance.
    let float = dir.path().join("float.safetensors");
    model.bundle().save(&float).unwrap();
    let r = Recogniser::open(&float, Some(LSTM_GENES)).unwrap();
    assert!(!r.frozen());
    let u = &tiny_rnn::dataset(2, 1).utterances[0];
    assert!(!r.recognise(&u.feats, 23).unwrap().phones.is_empty());
    let err = Recogniser::open(&float, Some("8,8,8"))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("--bits 8,8,8"), "{err}");
}

/// Rewrites the companion's metadata key `key` to `value`.
fn set_meta(companion: &Path, key: &str, value: &str) {
    let (tensors, mut meta) = read_tensors(companion).unwrap();
    meta.insert(key.into(), value.into());
    let list: Vec<(String, Vec<usize>, &[f32])> = tensors
        .iter()
        .map(|(n, (s, v))| (n.clone(), s.clone(), v.as_slice()))
        .collect();
    write_tensors(companion, &list, meta).unwrap();
}

#[test]
fn damaged_lstm_exports_are_refused_by_name() {
    let model = model(TINY_LSTM);
    let dir = tempfile::tempdir().unwrap();
    let out = export(&model, LSTM_GENES, dir.path());
    let companion = companion_path(&out);
    let open_err = || Recogniser::open(&out, None).err().unwrap().to_string();

    // A truncated packed file names the file.
    let bytes = std::fs::read(&out).unwrap();
    std::fs::write(&out, &bytes[..bytes.len() / 2]).unwrap();
    let err = open_err();
    assert!(err.contains("q.safetensors"), "{err}");
    std::fs::write(&out, &bytes).unwrap();
    assert!(Recogniser::open(&out, None).is_ok());

    // A gene count that fits no layout of the model names the companion and the key.
    let saved = std::fs::read(&companion).unwrap();
    set_meta(&companion, BITS_KEY, "8,8,8");
    let err = open_err();
    assert!(
        err.contains("q.rest.safetensors") && err.contains(BITS_KEY) && err.contains("3 genes"),
        "{err}"
    );
    // Widths that do not match the packed matrices name the matrix.
    set_meta(&companion, BITS_KEY, "16,16,16,16,16,16,16,16,16,16");
    let err = open_err();
    assert!(
        err.contains("matrix `L0`") && err.contains("at 8 bits"),
        "{err}"
    );
    // Another kind's tag, or an unknown format version.
    std::fs::write(&companion, &saved).unwrap();
    set_meta(&companion, KIND_KEY, "gru");
    let err = open_err();
    assert!(err.contains("kind `gru`") && err.contains("lstm"), "{err}");
    std::fs::write(&companion, &saved).unwrap();
    set_meta(&companion, VERSION_KEY, "7");
    let err = open_err();
    assert!(err.contains("version `7`"), "{err}");
    // A missing companion: the file alone is no model bundle.
    std::fs::remove_file(&companion).unwrap();
    let err = open_err();
    assert!(err.contains("q.safetensors"), "{err}");
}
