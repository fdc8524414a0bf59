//! Model config, layer table, weights file checks, training (determinism, resume, NaN stop),
//! QAT hook and gene order on synthetic data.

use std::path::Path;

use mohaq_sru::model::{ModelConfig, ModelError, ModelParams};
use mohaq_sru::quantized::BitConfig;
use mohaq_sru::train::trainer::{train, SilentObserver, TrainRun};
use mohaq_sru::train::{SequenceRef, TrainConfig, TrainError};

fn workspace() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

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
fn paper_layer_table_matches_the_paper_counts() {
    let c = ModelConfig::load(&workspace().join("models/sru-paper.toml")).unwrap();
    let t = c.matrix_layers();
    let names: Vec<&str> = t.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["L0", "L1", "L2", "L3", "P1", "P2", "P3", "FC"]);
    let paper: Vec<usize> = t.iter().map(|l| l.paper_weights).collect();
    assert_eq!(
        paper,
        [75_900, 844_800, 844_800, 844_800, 281_600, 281_600, 281_600, 2_094_400]
    );
    assert_eq!(t[0].weights, 101_200);
    assert_eq!(paper.iter().sum::<usize>(), 5_549_500);
    assert_eq!(c.elementwise_params(), 8_800);
    assert!((c.highway_scale() - 1.3175).abs() < 1e-4);
    assert_eq!(c.num_genes(), 16);
}

#[test]
fn config_errors_name_file_and_key() {
    let p = Path::new("bad.toml");
    let e = ModelConfig::from_toml_str(
        "[model]\nname='x'\ninput_dim=23\nhidden=0\nprojection=2\nlayers=4\nclasses=3\n",
        p,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("bad.toml") && e.to_string().contains("model.hidden"),
        "{e}"
    );
    let e = ModelConfig::from_toml_str("[model]\nname='x'\nhiden=3\n", p).unwrap_err();
    assert!(matches!(e, ModelError::Config { .. }), "{e}");
}

#[test]
fn weights_roundtrip_and_bad_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let c = tiny();
    let p = ModelParams::init(&c, 3);
    let path = dir.path().join("w.safetensors");
    p.save(&path, Default::default()).unwrap();
    let (back, _) = ModelParams::load(&c, &path).unwrap();
    assert_eq!(back, p);
    // Another config: shape mismatch names the tensor.
    let mut other = c.clone();
    other.hidden = 7;
    match ModelParams::load(&other, &path) {
        Err(ModelError::ShapeMismatch { name, .. }) => assert_eq!(name, "sru0.weight"),
        r => panic!("expected a shape mismatch, got {r:?}"),
    }
    // More layers: a missing tensor.
    let mut deeper = c.clone();
    deeper.layers = 4;
    assert!(matches!(
        ModelParams::load(&deeper, &path),
        Err(ModelError::MissingTensor { .. })
    ));
    // NaN weight.
    let mut bad = p.clone();
    bad.fc_bias[1] = f32::NAN;
    bad.save(&path, Default::default()).unwrap();
    match ModelParams::load(&c, &path) {
        Err(ModelError::NonFinite { name, index, .. }) => {
            assert_eq!((name.as_str(), index), ("fc.bias", 1))
        }
        r => panic!("expected NonFinite, got {r:?}"),
    }
    std::fs::write(&path, b"not safetensors").unwrap();
    assert!(matches!(
        ModelParams::load(&c, &path),
        Err(ModelError::Weights { .. })
    ));
}

/// Synthetic task: the class is the arg-max of the first 4 features, delayed by nothing.
fn synthetic(n: usize, seed: u64) -> Vec<(Vec<f32>, Vec<u32>)> {
    use rand::Rng;
    use rand_chacha::rand_core::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let t = 20 + (i * 7) % 30;
            let mut f = Vec::new();
            let mut y = Vec::new();
            for _ in 0..t {
                let row: Vec<f32> = (0..5).map(|_| rng.random_range(-1.0..1.0)).collect();
                let cls = (0..4).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
                f.extend(row);
                y.push(cls as u32);
            }
            (f, y)
        })
        .collect()
}

fn seqs(d: &[(Vec<f32>, Vec<u32>)]) -> Vec<SequenceRef<'_>> {
    d.iter()
        .map(|(f, y)| SequenceRef {
            feats: f,
            targets: y,
            dim: 5,
        })
        .collect()
}

fn tc(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: 4,
        curriculum_start: 16,
        learning_rate: 1e-2,
        ..TrainConfig::default()
    }
}

#[test]
fn training_learns_and_resume_equals_an_uninterrupted_run() {
    let data = synthetic(24, 1);
    let dev = synthetic(6, 2);
    let (tr, dv) = (seqs(&data), seqs(&dev));
    let run = |out: &Path, epochs: usize| {
        train(
            TrainRun {
                model: tiny(),
                train: tc(epochs),
                train_seqs: &tr,
                dev_seqs: &dv,
                dev_per: None,
                out_dir: out,
                init: None,
                hook: None,
            },
            &mut SilentObserver,
        )
        .unwrap()
    };
    let a = tempfile::tempdir().unwrap();
    let full = run(a.path(), 3);
    let h = &full.state.history;
    assert!(h[2].train_loss < h[0].train_loss, "{h:?}");
    assert!(h[2].dev_frame_acc > 0.4, "{h:?}");
    let b = tempfile::tempdir().unwrap();
    run(b.path(), 1);
    let resumed = run(b.path(), 3);
    let scores = |h: &[mohaq_sru::train::EpochSummary]| -> Vec<(f64, f64, f64, f64, f64)> {
        h.iter()
            .map(|e| {
                (
                    e.learning_rate,
                    e.train_loss,
                    e.train_frame_acc,
                    e.dev_loss,
                    e.dev_frame_acc,
                )
            })
            .collect()
    };
    assert_eq!(scores(&resumed.state.history), scores(&full.state.history));
    assert_eq!(resumed.best, full.best);
}

#[test]
fn non_finite_input_stops_with_a_clear_error() {
    let mut data = synthetic(8, 1);
    data[3].0[0] = f32::NAN;
    let tr = seqs(&data);
    let out = tempfile::tempdir().unwrap();
    let mut cfg = tc(1);
    cfg.batch_size = 32;
    let r = train(
        TrainRun {
            model: tiny(),
            train: cfg,
            train_seqs: &tr,
            dev_seqs: &tr,
            dev_per: None,
            out_dir: out.path(),
            init: None,
            hook: None,
        },
        &mut SilentObserver,
    );
    match r {
        Err(e @ TrainError::NonFiniteLoss { .. }) => assert!(e.to_string().contains("NaN")),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("a NaN loss must stop training"),
    }
    assert!(!out.path().join("checkpoint.safetensors").exists());
}

#[test]
fn qat_hook_trains_through_fake_quantization() {
    let data = synthetic(12, 5);
    let tr = seqs(&data);
    let out = tempfile::tempdir().unwrap();
    let c = tiny();
    let hook = mohaq_sru::train::qat::FakeQuantHook {
        bits: BitConfig::uniform(&c, mohaq_quant::BitWidth::B4),
    };
    let r = train(
        TrainRun {
            model: c.clone(),
            train: tc(2),
            train_seqs: &tr,
            dev_seqs: &tr,
            dev_per: None,
            out_dir: out.path(),
            init: Some(ModelParams::init(&c, 9)),
            hook: Some(&hook),
        },
        &mut SilentObserver,
    )
    .unwrap();
    assert!(r.state.history[1].train_loss < r.state.history[0].train_loss);
    assert_ne!(r.best, ModelParams::init(&c, 9));
}

#[test]
fn genes_follow_the_paper_order_and_fc_input_rule() {
    let c = ModelConfig::load(&workspace().join("models/sru-paper.toml")).unwrap();
    let genes: Vec<u32> = vec![2, 4, 8, 16, 16, 8, 4, 2, 4, 8, 16, 2, 4, 8, 16, 2];
    let b = BitConfig::from_genes(&c, &genes).unwrap();
    let w: Vec<u32> = b.layers.iter().map(|l| u32::from(l.weight)).collect();
    let a: Vec<u32> = b.layers.iter().map(|l| u32::from(l.activation)).collect();
    assert_eq!(w, [2, 4, 8, 16, 4, 8, 16, 16]);
    assert_eq!(a, [16, 8, 4, 2, 2, 4, 8, 4]);
    let mut expect = genes.clone();
    expect[15] = 4;
    assert_eq!(b.genes(), expect);
    assert!(BitConfig::from_genes(&c, &genes[..15]).is_err());
    assert!(BitConfig::parse(&c, "16,16,3,16,16,16,16,16,16,16,16,16,16,16,16,16").is_err());
}
