//! The shipped measured-table platform on the shipped model: `model_workload` (what
//! `mohaq hw eval --workload MODEL.toml` costs) and the search's workload (`workload_of`) both
//! carry the model's layers with shapes, and the example table costs every one of them at every
//! width pair the platform allows; `experiments/measured.toml` names it.

use mohaq_app::hardware::model_workload;
use mohaq_app::sru_model::workload_of;
use mohaq_beacon::Experiment;
use mohaq_hw::Platform;
use mohaq_sru::model::ModelConfig;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_example_table_costs_the_default_model_at_every_allowed_pair() {
    let config_path = root().join("models/sru-default.toml");
    let config = ModelConfig::load(&config_path).unwrap();
    let from_file = model_workload(&config_path).unwrap();
    let search = workload_of(&config).unwrap();
    assert_eq!(from_file, search);
    for (layer, model_layer) in search.layers().iter().zip(config.matrix_layers()) {
        assert_eq!(layer.name, model_layer.name);
        assert_eq!(
            layer.shape,
            Some((model_layer.in_dim as u64, model_layer.out_dim as u64))
        );
        assert_eq!(layer.weights, model_layer.weights as u64);
    }
    let platform =
        Platform::from_toml_file(root().join("platforms/measured/example.toml")).unwrap();
    let pairs = platform.allowed_pairs();
    assert_eq!(pairs.len(), 16);
    let n = search.layers().len();
    let base = platform.evaluate(&search, &vec![(16, 16); n]).unwrap();
    assert_eq!(base.speedup, 1.0);
    for &pair in &pairs {
        let cost = platform.evaluate(&search, &vec![pair; n]).unwrap();
        assert!(cost.speedup.is_finite() && cost.speedup > 0.0, "{pair:?}");
        let latency: f64 = cost.layers.iter().map(|l| l.latency_us.unwrap()).sum();
        assert!((latency - cost.latency_us_per_frame.unwrap()).abs() < 1e-9);
    }
}

#[test]
fn the_measured_experiment_names_the_example_platform() {
    let experiment = Experiment::from_file(&root().join("experiments/measured.toml")).unwrap();
    let platform = experiment.platform.as_ref().expect("a platform");
    let loaded = Platform::from_toml_file(root().join(platform)).unwrap();
    assert_eq!(loaded.name(), "measured-cpu-example");
    assert!(Path::new(&root().join(platform)).is_file());
}

#[test]
fn an_lstm_config_has_a_workload_with_its_recurrent_layers() {
    let path = root().join("fixtures/lstm_gru/lstm_bi_2.toml");
    let w = model_workload(&path).unwrap();
    let names: Vec<&str> = w.layers().iter().map(|l| l.name.as_str()).collect();
    assert!(names.contains(&"R0") && names.contains(&"FC"), "{names:?}");
    assert!(w.layers().iter().all(|l| l.shape.is_some()));
}
