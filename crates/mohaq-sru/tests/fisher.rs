//! The curvature and perturbation behind the HAWQ-style sensitivity.

use mohaq_quant::BitWidth;
use mohaq_sru::model::{ModelConfig, ModelParams};
use mohaq_sru::train::fisher::{empirical_fisher_means, matrix_weights, quantization_perturbation};
use mohaq_sru::train::SequenceRef;

fn tiny() -> ModelConfig {
    ModelConfig {
        name: "tiny".into(),
        input_dim: 5,
        hidden: 6,
        projection: 4,
        layers: 3,
        classes: 4,
        dropout: 0.1,
        highway_bias: -1.0,
    }
}

#[test]
fn fisher_means_are_positive_per_matrix_layer_and_deterministic() {
    let params = ModelParams::init(&tiny(), 7);
    let data: Vec<(Vec<f32>, Vec<u32>)> = (0..3)
        .map(|u| {
            let frames = 6 + u;
            let feats = (0..frames * 5)
                .map(|i| ((i * 7 + u * 3) % 11) as f32 / 5.0 - 1.0)
                .collect();
            let targets = (0..frames).map(|t| ((t + u) % 4) as u32).collect();
            (feats, targets)
        })
        .collect();
    let seqs: Vec<SequenceRef<'_>> = data
        .iter()
        .map(|(f, y)| SequenceRef {
            feats: f,
            targets: y,
            dim: 5,
        })
        .collect();
    let a = empirical_fisher_means(&params, &seqs).unwrap();
    assert_eq!(a.len(), tiny().matrix_layers().len());
    assert!(a.iter().all(|&x| x.is_finite() && x > 0.0), "{a:?}");
    assert_eq!(a, empirical_fisher_means(&params, &seqs).unwrap());
    assert_eq!(matrix_weights(&params).len(), a.len());
}

#[test]
fn perturbation_grows_as_the_width_falls() {
    let w: Vec<f32> = (0..500)
        .map(|i| ((i * 37 % 101) as f32 / 50.0 - 1.0).powi(3))
        .collect();
    let p: Vec<f64> = [16, 8, 4, 2]
        .iter()
        .map(|&b| quantization_perturbation(&w, BitWidth::new(b).unwrap()).unwrap())
        .collect();
    assert!(p.windows(2).all(|x| x[0] < x[1]), "{p:?}");
    assert!(p[0] >= 0.0);
}
