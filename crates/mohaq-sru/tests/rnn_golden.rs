//! LSTM and GRU against PyTorch: the fixtures of `fixtures/lstm_gru/generate.py` (state_dicts,
//! inputs and PyTorch's log-probabilities of small uni- and bidirectional 1–2-layer stacks, one
//! with projections). The float forward must match to 1e-5 absolute; the all-16-bit forward
//! within [`SIXTEEN_BIT_BOUND`] (stated in ARCHITECTURE.md).

use std::path::{Path, PathBuf};

use mohaq_precision::{BitWidth, LayerWidths};
use mohaq_sru::quantized::ActivationMode;
use mohaq_sru::rnn::import::import_state_dict;
use mohaq_sru::rnn::{float, Architecture, RnnConfig, RnnQuantized};

/// Largest |mohaq − PyTorch| of a log-probability allowed for the float forward.
const FLOAT_BOUND: f32 = 1e-5;
/// Largest |mohaq − PyTorch| allowed with every weight and activation at 16 bits.
const SIXTEEN_BIT_BOUND: f32 = 2e-3;

const CASES: [&str; 6] = [
    "lstm_uni_1",
    "lstm_bi_2",
    "lstm_bi_2_proj",
    "gru_uni_2",
    "gru_bi_1",
    "gru_bi_2",
];

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/lstm_gru")
}

fn config(case: &str) -> RnnConfig {
    match Architecture::load(&dir().join(format!("{case}.toml"))).unwrap() {
        Architecture::Rnn(c) => c,
        Architecture::Sru(_) => panic!("{case} is an LSTM/GRU"),
    }
}

/// (input, frames, PyTorch log-probs) of a case.
fn io(case: &str) -> (Vec<f32>, usize, Vec<f32>) {
    let path = dir().join(format!("{case}.io.safetensors"));
    let (t, _) = mohaq_sru::model::params::read_tensors(&path).unwrap();
    let (shape, input) = t["input"].clone();
    (input, shape[0], t["log_probs"].1.clone())
}

fn max_abs(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn float_forward_matches_pytorch_to_1e_5() {
    for case in CASES {
        let c = config(case);
        let params = import_state_dict(&dir().join(format!("{case}.safetensors")), &c).unwrap();
        let (x, frames, expected) = io(case);
        let got = float::forward(&params, &x, frames).unwrap();
        let dev = max_abs(&got, &expected);
        println!("{case}: float max |Δ log p| = {dev:.3e}");
        assert!(dev <= FLOAT_BOUND, "{case}: {dev}");
    }
}

#[test]
fn sixteen_bit_forward_stays_within_the_stated_bound() {
    for case in CASES {
        let c = config(case);
        let params = import_state_dict(&dir().join(format!("{case}.safetensors")), &c).unwrap();
        let (x, frames, expected) = io(case);
        let n = c.matrix_layers().len();
        let widths = vec![LayerWidths::uniform(BitWidth::B16); n];
        let q = RnnQuantized::new(params);
        let mut alphas = vec![0f32; n];
        let got = q
            .forward(
                &x,
                frames,
                &widths,
                ActivationMode::PerUtterance,
                &mut alphas,
            )
            .unwrap();
        let dev = max_abs(&got, &expected);
        println!("{case}: 16-bit max |Δ log p| = {dev:.3e}");
        assert!(dev <= SIXTEEN_BIT_BOUND, "{case}: {dev}");
        // Lower widths move further from the float model: the widths do reach the kernels.
        let two = vec![LayerWidths::uniform(BitWidth::B2); n];
        let low = q
            .forward(&x, frames, &two, ActivationMode::PerUtterance, &mut alphas)
            .unwrap();
        assert!(
            max_abs(&low, &expected) > dev,
            "{case}: 2-bit no worse than 16-bit"
        );
    }
}
