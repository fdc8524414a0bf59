//! The candle LSTM/GRU graph that training differentiates agrees with `rnn::float` (the forward
//! the golden tests pin to PyTorch) on padded batches of unequal lengths, and autograd reaches
//! every tensor.

use candle_core::{Device, Tensor};
use mohaq_sru::rnn::graph::{init_params, valid_log_probs, RnnNetwork};
use mohaq_sru::rnn::{float, Architecture, RnnConfig};
use std::path::PathBuf;

fn config(case: &str) -> RnnConfig {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/lstm_gru")
        .join(format!("{case}.toml"));
    match Architecture::load(&path).unwrap() {
        Architecture::Rnn(c) => c,
        Architecture::Sru(_) => panic!("{case} is an LSTM/GRU"),
    }
}

/// Deterministic feature values in about [-2, 2].
fn features(n: usize, seed: u32) -> Vec<f32> {
    (0..n)
        .map(|i| (i as f32 * 0.37 + seed as f32 * 1.3).sin() * 2.0)
        .collect()
}

const CASES: [&str; 5] = [
    "lstm_uni_1",
    "lstm_bi_2",
    "lstm_bi_2_proj",
    "gru_uni_2",
    "gru_bi_2",
];

/// A padded batch `[2, 9, dim]` of sequences of 9 and 5 frames, and the valid-row index.
fn batch(dim: usize) -> (Tensor, Vec<usize>, Vec<Vec<f32>>, Tensor) {
    let lengths = vec![9usize, 5];
    let t = 9;
    let seqs: Vec<Vec<f32>> = lengths
        .iter()
        .enumerate()
        .map(|(b, &len)| features(len * dim, b as u32 + 1))
        .collect();
    let mut x = vec![0f32; lengths.len() * t * dim];
    let mut valid = Vec::new();
    for (b, s) in seqs.iter().enumerate() {
        x[b * t * dim..][..s.len()].copy_from_slice(s);
        valid.extend((0..lengths[b]).map(|f| (b * t + f) as u32));
    }
    let x = Tensor::from_vec(x, (lengths.len(), t, dim), &Device::Cpu).unwrap();
    let n = valid.len();
    let valid = Tensor::from_vec(valid, n, &Device::Cpu).unwrap();
    (x, lengths, seqs, valid)
}

#[test]
fn graph_log_probs_equal_the_float_forward() {
    for case in CASES {
        let c = config(case);
        let params = init_params(&c, 7);
        let net = RnnNetwork::from_params(&params).unwrap();
        assert_eq!(net.to_params().unwrap(), params, "{case}: round trip");
        let (x, lengths, seqs, valid) = batch(c.input_dim);
        let logits = net.forward(&x, &lengths, None).unwrap();
        let graph = valid_log_probs(&logits, &valid)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let mut reference = Vec::new();
        for (s, &len) in seqs.iter().zip(&lengths) {
            reference.extend(float::forward(&params, s, len).unwrap());
        }
        assert_eq!(graph.len(), reference.len(), "{case}");
        let worst = graph
            .iter()
            .zip(&reference)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        eprintln!("{case}: max |graph − float| = {worst:e}");
        assert!(worst <= 1e-5, "{case}: max |graph − float| = {worst}");
        assert!(reference.iter().all(|v| v.is_finite() && *v <= 0.0));
    }
}

#[test]
fn init_is_seeded_and_within_pytorchs_bounds() {
    let c = config("lstm_bi_2_proj");
    assert_eq!(init_params(&c, 3), init_params(&c, 3));
    assert_ne!(init_params(&c, 3), init_params(&c, 4));
    let p = init_params(&c, 3);
    let bound = 1.0 / (c.hidden as f32).sqrt();
    assert!(p.layers[0][0].w_hh.iter().all(|v| v.abs() <= bound));
    let fc_bound = 1.0 / (c.layer_output() as f32).sqrt();
    assert!(p.fc_weight.iter().all(|v| v.abs() <= fc_bound));
}

#[test]
fn every_tensor_gets_a_gradient() {
    for case in ["lstm_bi_2_proj", "gru_bi_2"] {
        let c = config(case);
        let net = RnnNetwork::from_params(&init_params(&c, 1)).unwrap();
        let (x, lengths, _, valid) = batch(c.input_dim);
        let lp = valid_log_probs(&net.forward(&x, &lengths, None).unwrap(), &valid).unwrap();
        let loss = lp.mean_all().unwrap().neg().unwrap();
        let grads = loss.backward().unwrap();
        for (i, v) in net.vars().iter().enumerate() {
            let g = grads
                .get(v.as_tensor())
                .unwrap_or_else(|| panic!("{case}: tensor {i} has no gradient"));
            let norm = g
                .sqr()
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert!(
                norm.is_finite() && norm > 0.0,
                "{case}: tensor {i}: |g|² = {norm}"
            );
        }
    }
}

/// The graph trains with the SRU trainer's own Adam: on a fixed tiny batch, 60 steps lower the
/// cross-entropy by more than half (targets chosen so that the classes are learnable: class =
/// frame index mod classes).
#[test]
fn the_trainers_adam_fits_a_tiny_batch() {
    use mohaq_sru::train::adam::Adam;
    for case in ["lstm_bi_2", "gru_uni_2"] {
        let c = config(case);
        let net = RnnNetwork::from_params(&init_params(&c, 2)).unwrap();
        let (x, lengths, _, valid) = batch(c.input_dim);
        let targets: Vec<u32> = lengths
            .iter()
            .flat_map(|&len| (0..len).map(|f| (f % c.classes) as u32))
            .collect();
        let targets = Tensor::from_vec(targets.clone(), (targets.len(), 1), &Device::Cpu).unwrap();
        let mut adam = Adam::new(net.vars().to_vec(), 3e-2, 0.9, 0.999, 1e-8, 0.0).unwrap();
        let loss = |net: &RnnNetwork| {
            let lp = valid_log_probs(&net.forward(&x, &lengths, None).unwrap(), &valid).unwrap();
            lp.gather(&targets, 1)
                .unwrap()
                .neg()
                .unwrap()
                .mean_all()
                .unwrap()
        };
        let first = loss(&net).to_scalar::<f32>().unwrap();
        for _ in 0..60 {
            let l = loss(&net);
            adam.step(&l.backward().unwrap()).unwrap();
        }
        let last = loss(&net).to_scalar::<f32>().unwrap();
        eprintln!("{case}: loss {first} → {last} after 60 Adam steps");
        assert!(last < 0.5 * first, "{case}: loss {first} → {last}");
    }
}
