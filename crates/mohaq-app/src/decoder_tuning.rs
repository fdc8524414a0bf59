//! `mohaq tune-decoder`: tunes the Viterbi parameters of a model file on the dev split and
//! stores them in the file (or a copy). Only the `decoder_params` metadata changes; weights,
//! priors, bigram and config are written back as they were read.
//!
//! The dev split alone selects the parameters; the test split is decoded before and after only
//! to report what the tuning gained.

use std::path::PathBuf;
use std::time::Instant;

use mohaq_sru::data::Split;
use mohaq_sru::decode::{DecoderParams, TuningGrid, TuningOutcome, TuningProgress};
use mohaq_sru::features::{Dataset, LoadOptions};
use mohaq_sru::model::ModelBundle;
use mohaq_sru::train::pipeline::{load, score_per};
use mohaq_sru::train::tune::{float_log_posteriors, tune_on_posteriors};
use mohaq_sru::train::TrainError;
use serde::Serialize;

use crate::progress::Progress;

/// What `mohaq tune-decoder` does.
#[derive(Clone, Debug)]
pub struct TuneOptions {
    pub model: PathBuf,
    /// Where the tuned bundle goes (None: back into `model`).
    pub out: Option<PathBuf>,
    pub data_dir: PathBuf,
    pub grid: TuningGrid,
    /// Also decode the test split before and after (for the report only).
    pub report_test: bool,
}

/// Dev (and test) PER with the parameters before and after.
#[derive(Clone, Debug, Serialize)]
pub struct TuneReport {
    pub before: DecoderParams,
    pub after: DecoderParams,
    pub dev_per_before: f64,
    pub dev_per_after: f64,
    pub test_per_before: Option<f64>,
    pub test_per_after: Option<f64>,
    pub outcome: TuningOutcome,
    pub written: PathBuf,
    pub seconds: f64,
}

fn per_with(bundle: &ModelBundle, params: &DecoderParams, ds: &Dataset, lp: &[Vec<f32>]) -> f64 {
    let mut b = bundle.clone();
    b.decoder_params = params.clone();
    score_per(&b.decoder(), ds, lp)
}

/// Tunes `opts.model` on dev, writes the tuned bundle, and reports dev/test PER before and after.
pub fn tune_model_file(opts: &TuneOptions) -> Result<TuneReport, TrainError> {
    let start = Instant::now();
    let mut bundle = ModelBundle::open(&opts.model)?;
    let load_opts = LoadOptions::default();
    let dev = load(&opts.data_dir, Split::Dev, &load_opts)?;
    let before = bundle.decoder_params.clone();
    let mut bar = Progress::new("tuning decoder", opts.grid.points() as u64);
    let mut show = |p: TuningProgress| {
        bar.set(
            p.done as u64,
            p.total as u64,
            &format!("round {} | best dev PER {:.2}%", p.round + 1, p.best_per),
        );
    };
    let dev_lp = float_log_posteriors(&bundle, &dev)?;
    let outcome = tune_on_posteriors(&bundle, &dev, &dev_lp, &opts.grid, &mut show)?;
    bar.finish();
    let dev_per_before = per_with(&bundle, &before, &dev, &dev_lp);
    let dev_per_after = per_with(&bundle, &outcome.best, &dev, &dev_lp);
    let (test_per_before, test_per_after) = if opts.report_test {
        let test = load(&opts.data_dir, Split::Test, &load_opts)?;
        let lp = float_log_posteriors(&bundle, &test)?;
        (
            Some(per_with(&bundle, &before, &test, &lp)),
            Some(per_with(&bundle, &outcome.best, &test, &lp)),
        )
    } else {
        (None, None)
    };
    bundle.decoder_params = outcome.best.clone();
    let written = opts.out.clone().unwrap_or_else(|| opts.model.clone());
    bundle.save(&written)?;
    Ok(TuneReport {
        before,
        after: outcome.best.clone(),
        dev_per_before,
        dev_per_after,
        test_per_before,
        test_per_after,
        outcome,
        written,
        seconds: start.elapsed().as_secs_f64(),
    })
}
