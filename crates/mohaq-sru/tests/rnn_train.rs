//! `mohaq train` for LSTM/GRU configs: the one training loop trains the rnn graph, learns a
//! synthetic task, resumes a stopped run to the same result, gives the same result at any thread
//! count, and the pipeline writes a bundle the LSTM/GRU evaluator reads.

use std::path::Path;

use mohaq_sru::features::{Dataset, Utterance};
use mohaq_sru::rnn::{Architecture, RnnBundle, RnnConfig, RnnEvaluator, RnnKind, TensorNames};
use mohaq_sru::train::trainer::{train, SilentObserver, TrainOutcome, TrainRun};
use mohaq_sru::train::{
    train_any_from_config, AnyTrainReport, PipelineOptions, SequenceRef, TrainConfig,
};

fn tiny(kind: RnnKind, classes: usize) -> RnnConfig {
    RnnConfig {
        name: "tiny".into(),
        kind,
        input_dim: 5,
        hidden: 6,
        layers: 2,
        bidirectional: true,
        projection: None,
        classes,
        dropout: 0.1,
        names: TensorNames::default(),
    }
}

/// Synthetic task: the class is the arg-max of the first 4 features.
fn synthetic(n: usize, seed: u64) -> Vec<(Vec<f32>, Vec<u32>)> {
    use rand::Rng;
    use rand_chacha::rand_core::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let t = 12 + (i * 7) % 20;
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
        curriculum_start: 8,
        learning_rate: 2e-2,
        ..TrainConfig::default()
    }
}

fn run(
    model: RnnConfig,
    tr: &[SequenceRef<'_>],
    dv: &[SequenceRef<'_>],
    out: &Path,
    epochs: usize,
) -> TrainOutcome<RnnConfig> {
    train(
        TrainRun {
            model,
            train: tc(epochs),
            train_seqs: tr,
            dev_seqs: dv,
            dev_per: None,
            out_dir: out,
            init: None,
            hook: None,
        },
        &mut SilentObserver,
    )
    .unwrap()
}

type Scores = Vec<(f64, f64, f64, f64, f64)>;

fn scores(o: &TrainOutcome<RnnConfig>) -> Scores {
    o.state
        .history
        .iter()
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
}

#[test]
fn lstm_training_learns_and_resume_equals_an_uninterrupted_run() {
    let data = synthetic(16, 1);
    let dev = synthetic(6, 2);
    let (tr, dv) = (seqs(&data), seqs(&dev));
    let model = tiny(RnnKind::Lstm, 4);
    let a = tempfile::tempdir().unwrap();
    let full = run(model.clone(), &tr, &dv, a.path(), 3);
    let h = &full.state.history;
    assert!(h[2].train_loss < h[0].train_loss, "{h:?}");
    assert!(h[2].dev_frame_acc > 0.4, "{h:?}");
    // A run stopped after epoch 1 (its checkpoint is what a killed run leaves) resumes to the
    // same history and the same best weights.
    let b = tempfile::tempdir().unwrap();
    run(model.clone(), &tr, &dv, b.path(), 1);
    let resumed = run(model, &tr, &dv, b.path(), 3);
    assert_eq!(scores(&resumed), scores(&full));
    assert_eq!(resumed.best, full.best);
}

#[test]
fn gru_training_gives_one_result_at_any_thread_count() {
    let data = synthetic(8, 3);
    let dev = synthetic(4, 4);
    let (tr, dv) = (seqs(&data), seqs(&dev));
    let model = tiny(RnnKind::Gru, 4);
    let at = |threads: usize| {
        let out = tempfile::tempdir().unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| run(model.clone(), &tr, &dv, out.path(), 2))
    };
    let one = at(1);
    let three = at(3);
    assert_eq!(scores(&one), scores(&three));
    assert_eq!(one.best, three.best);
    assert_ne!(
        one.best,
        mohaq_sru::rnn::graph::init_params(&model, tc(2).seed)
    );
}

/// A tiny corpus split: phones spread over their three states, features that point at the phone.
fn dataset(n: usize, seed: u64) -> Dataset {
    use rand::Rng;
    use rand_chacha::rand_core::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let utterances = (0..n)
        .map(|i| {
            let phones: Vec<u8> = (0..4).map(|_| rng.random_range(0..5u8)).collect();
            let mut phones_merged = phones.clone();
            phones_merged.dedup();
            let (mut feats, mut targets) = (Vec::new(), Vec::new());
            for &p in &phones {
                for state in 0..3u32 {
                    for _ in 0..2 {
                        for d in 0..5 {
                            let on = if d == p as usize { 1.5 } else { 0.0 };
                            feats.push(on + rng.random_range(-0.3..0.3f32));
                        }
                        targets.push(3 * p as u32 + state);
                    }
                }
            }
            Utterance {
                id: format!("u{i}"),
                speaker: format!("s{}", i % 3),
                dim: 5,
                feats,
                targets,
                phones: phones_merged,
            }
        })
        .collect();
    Dataset { utterances }
}

/// Dumps of tiny train/dev/test splits and an LSTM config with a `[train]` table in `dir`;
/// pipeline options that train it into `dir/out_name`.
fn corpus_and_config(dir: &Path, out_name: &str) -> PipelineOptions {
    let dumps = dir.join("dumps");
    std::fs::create_dir_all(&dumps).unwrap();
    for (name, n, seed) in [("train", 12, 1), ("dev", 4, 2), ("test", 4, 3)] {
        mohaq_sru::train::dump::write_dump(&dumps.join(format!("{name}.bin")), &dataset(n, seed))
            .unwrap();
    }
    let config = dir.join("lstm.toml");
    std::fs::write(
        &config,
        "[model]\nname = \"t\"\nkind = \"lstm\"\ninput_dim = 5\nhidden = 8\nlayers = 1\n\
         bidirectional = true\nclasses = 117\n\n[train]\nepochs = 2\nbatch_size = 4\n\
         curriculum_start = 8\nlearning_rate = 0.02\n",
    )
    .unwrap();
    PipelineOptions {
        config,
        data_dir: dir.to_path_buf(),
        out_dir: dir.join(out_name),
        include_kathleen: None,
        epochs: None,
        cache_dir: None,
        dump_dir: Some(dumps),
        tune_decoder: true,
    }
}

#[test]
fn pipeline_trains_an_lstm_config_into_a_bundle_the_evaluator_reads() {
    let dir = tempfile::tempdir().unwrap();
    let opts = corpus_and_config(dir.path(), "out");
    let (out, dumps) = (opts.out_dir.clone(), opts.dump_dir.clone().unwrap());
    let AnyTrainReport::Rnn(report) = train_any_from_config(&opts, &mut SilentObserver).unwrap()
    else {
        panic!("an LSTM config trains an LSTM")
    };
    assert_eq!(report.history.len(), 2);
    assert!(report.decoder_tuning.is_some());
    assert!(out.join("summary.json").exists() && out.join("checkpoint.safetensors").exists());
    let Some(Architecture::Rnn(stored)) = Architecture::stored(&report.model_path).unwrap() else {
        panic!("the bundle stores its LSTM config")
    };
    assert_eq!(stored, report.model);
    let bundle = RnnBundle::load(&stored, &report.model_path).unwrap();
    assert_eq!(
        bundle.decoder_params,
        report.decoder_tuning.as_ref().unwrap().best
    );
    // The bundle's float PER under the LSTM evaluator (the search's) is the PER the trainer
    // reported: the same weights and decoder.
    let dev = mohaq_sru::train::dump::read_dump(&dumps.join("dev.bin")).unwrap();
    let eval = RnnEvaluator::from_bundle(&bundle, &dev)
        .unwrap()
        .evaluate_float()
        .unwrap();
    assert!(
        (eval.per - report.dev_per).abs() < 1e-9,
        "{} vs {}",
        eval.per,
        report.dev_per
    );
}

#[test]
fn qat_fine_tuning_of_an_lstm_is_deterministic_and_helps_at_low_width() {
    use mohaq_quant::BitWidth;
    use mohaq_sru::train::qat::qat_fine_tune_rnn;
    let dir = tempfile::tempdir().unwrap();
    let mut opts = corpus_and_config(dir.path(), "float");
    opts.epochs = Some(4);
    let AnyTrainReport::Rnn(float) = train_any_from_config(&opts, &mut SilentObserver).unwrap()
    else {
        panic!("an LSTM config trains an LSTM")
    };
    let base = RnnBundle::load(&float.model, &float.model_path).unwrap();
    // 2-bit weights, 4-bit inputs on every layer (FC input at least 4 bits).
    let low = mohaq_precision::LayerWidths {
        weight: BitWidth::B2,
        activation: BitWidth::B4,
    };
    let widths = vec![low; base.params.config.matrix_layers().len()];
    let qat = |name: &str| {
        let opts = PipelineOptions {
            out_dir: dir.path().join(name),
            epochs: Some(2),
            tune_decoder: false,
            ..opts.clone()
        };
        let r = qat_fine_tune_rnn(
            &opts,
            base.params.clone(),
            widths.clone(),
            &mut SilentObserver,
        )
        .unwrap();
        RnnBundle::load(&r.model, &r.model_path).unwrap().params
    };
    let (a, b) = (qat("qat_a"), qat("qat_b"));
    assert_eq!(a, b, "one seed, one QAT result");
    assert_ne!(a, base.params, "QAT moved the weights");
    let dev = mohaq_sru::train::dump::read_dump(&opts.dump_dir.unwrap().join("dev.bin")).unwrap();
    let evaluator = RnnEvaluator::from_bundle(&base, &dev).unwrap();
    let before = evaluator.evaluate(&widths).unwrap();
    let after = evaluator.with_params(a).evaluate(&widths).unwrap();
    assert!(
        after.frame_acc > before.frame_acc,
        "QAT at 2/4 bits: frame accuracy {} before, {} after",
        before.frame_acc,
        after.frame_acc
    );
}
