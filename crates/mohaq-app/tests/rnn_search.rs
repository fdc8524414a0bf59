//! The search on an LSTM: a tiny randomly initialised 2-layer bidirectional LSTM (117 classes)
//! and a handful of synthetic utterances. Its genes follow its layer table (L0, L1, R0, R1, FC:
//! 10 genes, not the SRU's 16), the workload counts the recurrent products, a run is
//! deterministic and resumes without repeating work, and beacons without retraining settings are
//! refused by name.
//! No corpus, no training: seconds.

use std::path::{Path, PathBuf};

use mohaq_app::rnn_model::{RnnModel, BEACONS_UNSUPPORTED};
use mohaq_beacon::experiment::Experiment;
use mohaq_beacon::limits::ResolvedLimits;
use mohaq_beacon::problem::MohaqProblem;
use mohaq_beacon::run::{run_search, FrontFile, RunOptions};
use mohaq_beacon::{ErrorModel, LayerBits, Retrainer};
use mohaq_evo::{Control, GenerationReport, Problem, Silent};
use mohaq_hw::Platform;
use mohaq_sru::rnn::RnnBundle;

mod tiny_rnn;

use tiny_rnn::TINY_LSTM;

const COMPRESSION: &str = r#"
name = "lstm-compression"
kind = "compression"
seed = 5
[model]
config = "tiny-lstm.toml"
weights = "tiny-lstm.safetensors"
[search]
pop_size = 10
n_offsprings = 4
n_gen = 5
[constraints]
max_error = { relative = 3.0 }
"#;

const BITFUSION: &str = r#"
name = "lstm-bitfusion"
kind = "speedup"
seed = 2
platform = "bitfusion.toml"
[model]
config = "tiny-lstm.toml"
weights = "tiny-lstm.safetensors"
[search]
pop_size = 10
n_offsprings = 4
n_gen = 4
[constraints]
max_error = { relative = 3.0 }
max_size_mb = { relative = 0.5 }
"#;

fn tiny_bundle() -> RnnBundle {
    tiny_rnn::bundle(TINY_LSTM)
}

fn tiny_model() -> RnnModel {
    RnnModel::from_parts(
        tiny_bundle(),
        &tiny_rnn::dataset(1, 4),
        &tiny_rnn::dataset(2, 3),
    )
    .unwrap()
}

fn experiment(text: &str) -> Experiment {
    Experiment::from_toml_str(text, Path::new("test.toml")).unwrap()
}

fn bitfusion() -> Platform {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../platforms/bitfusion.toml");
    Platform::from_toml_file(path).unwrap()
}

fn run(exp: &Experiment, model: &RnnModel, platform: Option<&Platform>, dir: &Path) -> FrontFile {
    let options = RunOptions {
        skip_test: false,
        ..RunOptions::default()
    };
    run_search(exp, model, None, platform, dir, &options, &mut Silent).unwrap()
}

/// (error, size, widths) of every front solution, for comparing runs.
fn summary(front: &FrontFile) -> Vec<(u64, u64, LayerBits, Option<u64>)> {
    front
        .solutions
        .iter()
        .map(|s| {
            (
                s.score.error.to_bits(),
                s.score.cost.size_mb.to_bits(),
                s.score.bits,
                s.test_error.map(f64::to_bits),
            )
        })
        .collect()
}

#[test]
fn genes_and_workload_follow_the_lstm_layer_table() {
    let model = tiny_model();
    let names: Vec<&str> = model
        .workload()
        .layers()
        .iter()
        .map(|l| l.name.as_str())
        .collect();
    assert_eq!(names, ["L0", "L1", "R0", "R1", "FC"]);
    // R_k: W_hh of both directions, 4 gates × hidden rows × hidden inputs, every frame.
    let r0 = &model.workload().layers()[2];
    assert_eq!((r0.weights, r0.macs), (2 * 4 * 6 * 6, 2 * 4 * 6 * 6));
    let exp = experiment(COMPRESSION);
    let limits = ResolvedLimits::for_model(&exp, &model, None).unwrap();
    let problem = MohaqProblem::new(&exp, &model, None, limits).unwrap();
    assert_eq!(problem.space().len(), 10);
    let codec = problem.codec();
    let described: Vec<String> = (0..codec.len()).map(|g| codec.describe(g)).collect();
    assert_eq!(described[0], "L0 weights");
    assert_eq!(described[4], "R0 weights");
    assert_eq!(described[9], "FC activations");
    let genes = problem.genes_of(&LayerBits::uniform_for(5, 8)).unwrap();
    let bits = problem.bits_of(&genes).unwrap();
    assert_eq!(bits, LayerBits::uniform_for(5, 8));
    // An SRU candidate is no LSTM candidate.
    assert!(problem.genes_of(&LayerBits::uniform(8)).is_none());
}

#[test]
fn lstm_search_is_deterministic_and_resumes() {
    let exp = experiment(COMPRESSION);
    let dir = tempfile::tempdir().unwrap();
    let a = run(&exp, &tiny_model(), None, &dir.path().join("a"));
    let b = run(&exp, &tiny_model(), None, &dir.path().join("b"));
    assert!(!a.solutions.is_empty());
    assert_eq!(summary(&a), summary(&b));
    for s in &a.solutions {
        assert_eq!(s.score.bits.len(), 5);
        // The codec's grouping: L | L act | R | R act | FC.
        assert_eq!(
            s.genes_display.split(" | ").count(),
            5,
            "{}",
            s.genes_display
        );
        assert!(s.test_error.is_some_and(f64::is_finite));
    }
    // The front.json of an LSTM run reads back.
    assert_eq!(FrontFile::load(&dir.path().join("a")).unwrap(), a);

    let split = dir.path().join("split");
    let mut stop_after_2 = |r: &GenerationReport| {
        if r.generation == 2 {
            Control::Stop
        } else {
            Control::Continue
        }
    };
    let first = tiny_model();
    let partial = run_search(
        &exp,
        &first,
        None,
        None,
        &split,
        &RunOptions::default(),
        &mut stop_after_2,
    )
    .unwrap();
    assert!(!partial.completed);
    let resumed = run(&exp, &tiny_model(), None, &split);
    assert_eq!(resumed.resumed_from, Some(2));
    assert_eq!(resumed.n_evaluations, a.n_evaluations);
    assert_eq!(summary(&resumed), summary(&a));
}

#[test]
fn lstm_bitfusion_search_costs_every_layer() {
    let exp = experiment(BITFUSION);
    let bf = bitfusion();
    let model = tiny_model();
    let dir = tempfile::tempdir().unwrap();
    let front = run(&exp, &model, Some(&bf), dir.path());
    assert!(!front.solutions.is_empty());
    for s in &front.solutions {
        let speedup = s.score.cost.speedup.unwrap();
        assert!(speedup >= 1.0, "{speedup}");
        assert!(s
            .score
            .bits
            .weight
            .iter()
            .all(|b| [2, 4, 8, 16].contains(b)));
    }
    // All-16-bit is the reference: speedup 1; all 4-bit is faster.
    let limits = ResolvedLimits::for_model(&exp, &model, Some(&bf)).unwrap();
    let problem = MohaqProblem::new(&exp, &model, Some(&bf), limits).unwrap();
    let s16 = problem.cost(&LayerBits::uniform_for(5, 16)).unwrap();
    let s4 = problem.cost(&LayerBits::uniform_for(5, 4)).unwrap();
    assert!(s4.speedup.unwrap() > s16.speedup.unwrap());
}

#[test]
fn beacons_without_retraining_settings_are_refused_by_name() {
    let model = tiny_model();
    let dir = tempfile::tempdir().unwrap();
    let Err(err) = model.retrain(&LayerBits::uniform_for(5, 4), 1, dir.path()) else {
        panic!("retraining an LSTM beacon without a [train] config succeeded");
    };
    assert!(
        err.to_string()
            .contains("need a model config with a [train] table"),
        "{err}"
    );
    assert!(BEACONS_UNSUPPORTED.contains("[beacons]"));
}

#[test]
fn quantized_errors_move_and_float_is_the_reference() {
    let model = tiny_model();
    let float = model.float_error().unwrap();
    let e16 = model.error(&LayerBits::uniform_for(5, 16), None).unwrap();
    let e2 = model
        .error(&LayerBits::uniform_for(5, 2).with_fc_rule(), None)
        .unwrap();
    assert!(float.is_finite() && e16.is_finite() && e2.is_finite());
    // 16-bit stays near the float model.
    assert!((e16 - float).abs() <= 5.0, "{e16} vs {float}");
    // A candidate of the wrong layer count is a clear error, not a panic.
    let err = model.error(&LayerBits::uniform(8), None).unwrap_err();
    assert!(err.to_string().contains("tiny-lstm"), "{err}");
}

#[test]
fn shipped_lstm_experiments_parse_and_share_one_model() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut models = Vec::new();
    for name in mohaq_app::lstm_reproduce::LSTM_EXPERIMENTS {
        let path = root.join("experiments").join(format!("{name}.toml"));
        let e = Experiment::from_file(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(e.name, name);
        assert!(!e.uses_beacons(), "{name}: LSTM searches are PTQ only");
        models.push((e.model, e.data));
    }
    assert_eq!(models[0], models[1]);
}

#[test]
fn lstm_report_section_has_a_table_and_plot_per_search() {
    use mohaq_app::lstm_reproduce::{lstm_section, LstmResults};
    use mohaq_app::reproduce::SearchResult;
    let model = tiny_model();
    let dir = tempfile::tempdir().unwrap();
    let bf = bitfusion();
    let result = |text: &str, platform: Option<&Platform>, name: &str| SearchResult {
        front: run(&experiment(text), &model, platform, &dir.path().join(name)),
        run_dir: dir.path().join(name),
        seconds: 1.0,
    };
    let r = LstmResults {
        model: model.name(),
        architecture: model.config().describe(),
        genes: 10,
        float_error: model.float_error().unwrap(),
        fp32_size_mb: mohaq_beacon::model::fp32_size_mb(model.workload()),
        error_note: model.error_note(),
        compression: result(COMPRESSION, None, "c"),
        bitfusion: result(BITFUSION, Some(&bf), "b"),
        quick: None,
    };
    let text = lstm_section(dir.path(), Some(&r)).unwrap();
    for name in ["lstm-compression", "lstm-bitfusion"] {
        assert!(text.contains(&format!("({name}.svg)")), "{text}");
        assert!(dir.path().join(format!("{name}.svg")).is_file());
    }
    let rows = text
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| #"))
        .count();
    assert_eq!(
        rows,
        r.compression.front.solutions.len() + r.bitfusion.front.solutions.len()
    );
    // Every table row has as many cells as its header (no unescaped `|` splits a cell).
    let cells = |l: &str| l.replace("\\|", "").matches('|').count();
    for table in text.split("\n\n").filter(|t| t.starts_with("| #")) {
        let mut lines = table.lines();
        let header = cells(lines.next().unwrap());
        assert!(lines.all(|l| cells(l) == header), "{table}");
    }
    assert!(lstm_section(dir.path(), None).unwrap().contains("Not run"));
}
