//! `mohaq tune-decoder`: tunes the Viterbi parameters of a model file (an SRU bundle, or an
//! LSTM/GRU bundle that `mohaq train` or `mohaq import` wrote) on the dev split and stores them
//! in the file (or a copy). Only the `decoder_params` metadata changes; weights,
//! priors, bigram and config are written back as they were read.
//!
//! The dev split alone selects the parameters; the test split is decoded before and after only
//! to report what the tuning gained.

use std::path::{Path, PathBuf};
use std::time::Instant;

use mohaq_sru::data::Split;
use mohaq_sru::decode::{
    Decoder, DecoderParams, PhoneBigram, StatePriors, TuningGrid, TuningOutcome, TuningProgress,
};
use mohaq_sru::features::{Dataset, LoadOptions};
use mohaq_sru::rnn::RnnConfig;
use mohaq_sru::train::pipeline::{load, score_per};
use mohaq_sru::train::tune::{
    float_log_posteriors, params_log_posteriors, tune_statistics_on_posteriors,
};
use mohaq_sru::train::TrainError;
use serde::Serialize;

use crate::byom::{AnyBundle, ByomError};
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

/// What tuning reads from and writes back to a model file of either kind.
impl AnyBundle {
    fn log_posteriors(&self, ds: &Dataset) -> Result<Vec<Vec<f32>>, TrainError> {
        match self {
            Self::Sru(b) => float_log_posteriors(b, ds),
            Self::Rnn(b) => params_log_posteriors::<RnnConfig>(&b.params, ds),
        }
    }

    fn statistics(&self) -> (&PhoneBigram, &StatePriors, &DecoderParams) {
        match self {
            Self::Sru(b) => (&b.bigram, &b.priors, &b.decoder_params),
            Self::Rnn(b) => (&b.bigram, &b.priors, &b.decoder_params),
        }
    }

    fn set_decoder_params(&mut self, params: DecoderParams) {
        match self {
            Self::Sru(b) => b.decoder_params = params,
            Self::Rnn(b) => b.decoder_params = params,
        }
    }

    fn save_bundle(&self, path: &Path) -> Result<(), ByomError> {
        match self {
            Self::Sru(b) => Ok(b.save(path)?),
            Self::Rnn(b) => Ok(b.save(path)?),
        }
    }

    fn per_with(&self, params: &DecoderParams, ds: &Dataset, lp: &[Vec<f32>]) -> f64 {
        let (bigram, priors, _) = self.statistics();
        let decoder = Decoder::new(bigram.clone(), priors.clone(), params.clone());
        score_per(&decoder, ds, lp)
    }
}

/// Tunes `opts.model` on dev, writes the tuned bundle, and reports dev/test PER before and after.
pub fn tune_model_file(opts: &TuneOptions) -> Result<TuneReport, ByomError> {
    let start = Instant::now();
    let mut bundle = AnyBundle::load(&opts.model)?;
    let load_opts = LoadOptions::default();
    let dev = load(&opts.data_dir, Split::Dev, &load_opts)?;
    let before = bundle.statistics().2.clone();
    let mut bar = Progress::new("tuning decoder", opts.grid.points() as u64);
    let mut show = |p: TuningProgress| {
        bar.set(
            p.done as u64,
            p.total as u64,
            &format!("round {} | best dev PER {:.2}%", p.round + 1, p.best_per),
        );
    };
    let dev_lp = bundle.log_posteriors(&dev)?;
    let (bigram, priors, _) = bundle.statistics();
    let outcome =
        tune_statistics_on_posteriors(bigram, priors, &dev, &dev_lp, &opts.grid, &mut show)?;
    bar.finish();
    let dev_per_before = bundle.per_with(&before, &dev, &dev_lp);
    let dev_per_after = bundle.per_with(&outcome.best, &dev, &dev_lp);
    let (test_per_before, test_per_after) = if opts.report_test {
        let test = load(&opts.data_dir, Split::Test, &load_opts)?;
        let lp = bundle.log_posteriors(&test)?;
        (
            Some(bundle.per_with(&before, &test, &lp)),
            Some(bundle.per_with(&outcome.best, &test, &lp)),
        )
    } else {
        (None, None)
    };
    bundle.set_decoder_params(outcome.best.clone());
    let written = opts.out.clone().unwrap_or_else(|| opts.model.clone());
    bundle.save_bundle(&written)?;
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
