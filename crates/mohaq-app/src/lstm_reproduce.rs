//! The LSTM part of `cargo xtask reproduce` (issue #13, item 7): the compression and Bit Fusion
//! searches of `experiments/lstm-*.toml` on the shipped small LSTM (`models/lstm-mohaq.*`,
//! trained by `mohaq train`; see `models/lstm-mohaq.md`), with their own
//! table and plots, appended to `REPORT.md` after the SRU's sections.
//!
//! Both experiments name the same model and data, so one [`RnnModel`] (one set of evaluators
//! and weight caches) serves both. Under `--quick` the budgets are smaller than the SRU's quick
//! ones, so that the LSTM part stays well under a minute on 2 cores.

use std::fmt::Write as _;
use std::path::Path;

use mohaq_evo::Observer;
use serde::Serialize;

use crate::report::front_plot;
use crate::reproduce::{load_experiment, ReproduceConfig, SearchResult};
use crate::rnn_model::RnnModel;
use mohaq_beacon::error::RunError;
use mohaq_beacon::fsio::{write_atomic, write_json_atomic};
use mohaq_beacon::model::{fp32_size_mb, ErrorModel};
use mohaq_beacon::run::{run_search, FrontFile, RunOptions};
use mohaq_hw::Platform;

/// The LSTM experiments, in report order.
pub const LSTM_EXPERIMENTS: [&str; 2] = ["lstm-compression", "lstm-bitfusion"];

/// `--quick` budget of the LSTM searches: population, offspring per generation, generations,
/// optimisation subset (first N dev utterances) and test subset.
pub const LSTM_QUICK: LstmQuick = LstmQuick {
    pop_size: 10,
    n_offsprings: 5,
    n_gen: 5,
    dev_utterances: 6,
    test_utterances: 8,
};

/// See [`LSTM_QUICK`].
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LstmQuick {
    pub pop_size: usize,
    pub n_offsprings: usize,
    pub n_gen: usize,
    pub dev_utterances: usize,
    pub test_utterances: usize,
}

/// What the LSTM part of the report shows.
#[derive(Debug, Clone, Serialize)]
pub struct LstmResults {
    pub model: String,
    /// "2-layer bidirectional LSTM, hidden 96, ..." and its gene count.
    pub architecture: String,
    pub genes: usize,
    pub float_error: f64,
    pub fp32_size_mb: f64,
    pub error_note: Option<String>,
    pub compression: SearchResult,
    pub bitfusion: SearchResult,
    pub quick: Option<LstmQuick>,
}

/// Reads an LSTM experiment, with the LSTM's own `--quick` budget.
fn lstm_experiment(
    config: &ReproduceConfig,
    name: &str,
) -> Result<mohaq_beacon::Experiment, RunError> {
    let quick = config.quick;
    let mut e = load_experiment(
        &ReproduceConfig {
            quick: false,
            ..config.clone()
        },
        name,
    )?;
    if quick {
        let q = LSTM_QUICK;
        e.search.pop_size = e.search.pop_size.min(q.pop_size);
        e.search.n_offsprings = e.search.n_offsprings.min(q.n_offsprings);
        e.search.n_gen = e.search.n_gen.min(q.n_gen);
        e.data.dev_utterances = q.dev_utterances;
        e.data.test_utterances = q.test_utterances;
        e.name = format!("{}-quick", e.name);
    }
    Ok(e)
}

/// Runs the LSTM searches into `<out>/runs/`; `None` when the shipped LSTM bundle is missing
/// (the report then says so). `data_dir` overrides the experiments' corpus folder.
pub fn reproduce_lstm(
    config: &ReproduceConfig,
    data_dir: Option<&Path>,
    observer: &mut dyn Observer,
) -> Result<Option<LstmResults>, RunError> {
    let first = lstm_experiment(config, LSTM_EXPERIMENTS[0])?;
    if !first.model.weights.is_file() {
        return Ok(None);
    }
    let model = RnnModel::for_experiment(&first, &config.workspace, data_dir)?;
    let mut results = Vec::new();
    for name in LSTM_EXPERIMENTS {
        let e = lstm_experiment(config, name)?;
        if e.model != first.model || e.data != first.data {
            return Err(RunError::Invalid(format!(
                "experiment `{name}`: the LSTM experiments must share one [model] and [data] \
                 section (the report runs them on one model)"
            )));
        }
        results.push(search(config, &e, &model, observer)?);
    }
    let bitfusion = results.pop().expect("two experiments");
    let compression = results.pop().expect("two experiments");
    let c = model.config();
    let out = LstmResults {
        model: model.name(),
        architecture: c.describe(),
        genes: mohaq_precision::GeneCodec::new(
            c.layer_table(),
            mohaq_precision::GeneLayout::Independent,
        )
        .len(),
        float_error: model.float_error()?,
        fp32_size_mb: fp32_size_mb(model.workload()),
        error_note: model.error_note(),
        compression,
        bitfusion,
        quick: config.quick.then_some(LSTM_QUICK),
    };
    let path = config.out_dir.join("lstm_results.json");
    write_json_atomic(&path, &out).map_err(|source| RunError::Io {
        path,
        action: "writing the LSTM results",
        source,
    })?;
    Ok(Some(out))
}

/// One search of a (shrunk) LSTM experiment in `<out>/runs/<name>`, as the SRU's
/// [`crate::reproduce::reproduce_search`] runs a shipped one (PTQ only: no retrainer).
fn search(
    config: &ReproduceConfig,
    experiment: &mohaq_beacon::Experiment,
    model: &RnnModel,
    observer: &mut dyn Observer,
) -> Result<SearchResult, RunError> {
    let platform = experiment
        .platform
        .as_ref()
        .map(Platform::from_toml_file)
        .transpose()?;
    let run_dir = config.out_dir.join("runs").join(&experiment.name);
    tracing::info!(experiment = %experiment.name, run_dir = %run_dir.display(), "LSTM search");
    let start = std::time::Instant::now();
    let front = run_search(
        experiment,
        model,
        None,
        platform.as_ref(),
        &run_dir,
        &RunOptions::default(),
        observer,
    )?;
    Ok(SearchResult {
        front,
        run_dir,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The front of one LSTM search as a Markdown table.
fn front_table(front: &FrontFile) -> String {
    let speedup = front
        .solutions
        .iter()
        .any(|s| s.score.cost.speedup.is_some());
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| # | widths: weights \\| activations of L.., then R.., P.., FC (W,A) | PER search (%) | \
         PER test (%) | size (MB) |{}",
        if speedup { " speedup |" } else { "" }
    );
    let _ = writeln!(
        s,
        "|---|---|---|---|---|{}",
        if speedup { "---|" } else { "" }
    );
    for sol in &front.solutions {
        let _ = writeln!(
            s,
            "| {} | {} | {:.2} | {} | {:.3} |{}",
            sol.index,
            sol.genes_display.replace('|', "\\|"),
            sol.score.error,
            sol.test_error.map_or("–".into(), |t| format!("{t:.2}")),
            sol.score.cost.size_mb,
            sol.score
                .cost
                .speedup
                .map_or(String::new(), |x| format!(" {x:.2}× |"))
        );
    }
    s
}

/// The LSTM section of the report, with its plots written into `out`.
pub fn lstm_section(out: &Path, r: Option<&LstmResults>) -> Result<String, RunError> {
    let mut s = String::from("## LSTM (issue #13): compression and Bit Fusion searches\n\n");
    let Some(r) = r else {
        s.push_str(
            "Not run: the shipped LSTM bundle `models/lstm-mohaq.safetensors` is missing (make \
             it with `mohaq train --config models/lstm-mohaq.toml --epochs 1`).\n\n",
        );
        return Ok(s);
    };
    let _ = writeln!(
        s,
        "Model `{}`: {}; {} genes (weights and input activations of every matrix product, the \
         recurrent W_hh·h included). Float PER on the optimisation subset {:.2} %, FP32 size \
         {:.3} MB. PTQ only (these experiments have no [beacons] section).{}\n",
        r.model,
        r.architecture,
        r.genes,
        r.float_error,
        r.fp32_size_mb,
        r.error_note
            .as_ref()
            .map_or(String::new(), |n| format!(" {n}."))
    );
    if let Some(q) = r.quick {
        let _ = writeln!(
            s,
            "Quick budget of the LSTM searches: population {}, {} offspring, {} generations; \
             first {} dev / {} test utterances.\n",
            q.pop_size, q.n_offsprings, q.n_gen, q.dev_utterances, q.test_utterances
        );
    }
    for (title, result) in [
        ("Compression (PER, size)", &r.compression),
        ("Bit Fusion (PER, speedup)", &r.bitfusion),
    ] {
        let front = &result.front;
        let svg = format!("{}.svg", front.experiment);
        front_plot(front, &out.join(&svg))?;
        let _ = writeln!(
            s,
            "### {title}: `{}`\n\n{} solutions, {} evaluations, {} generations, {:.0} s.\n",
            front.experiment,
            front.solutions.len(),
            front.n_evaluations,
            front.generations,
            result.seconds
        );
        s.push_str(&front_table(front));
        let _ = writeln!(s, "\n![{}]({svg})\n", front.experiment);
    }
    Ok(s)
}

/// Appends the LSTM section to `<out>/REPORT.md` (written before by the SRU's report).
pub fn append_lstm_section(out: &Path, r: Option<&LstmResults>) -> Result<(), RunError> {
    let path = out.join("REPORT.md");
    let mut text = std::fs::read_to_string(&path).map_err(|source| RunError::Io {
        path: path.clone(),
        action: "reading the report",
        source,
    })?;
    text.push_str(&lstm_section(out, r)?);
    write_atomic(&path, text.as_bytes()).map_err(|source| RunError::Io {
        path,
        action: "writing the report",
        source,
    })
}
