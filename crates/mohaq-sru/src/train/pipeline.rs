//! End-to-end training from a config file and a corpus directory, for any model kind
//! ([`train_any_from_config`]; an LSTM/GRU bundle is an [`crate::rnn::RnnBundle`]): loads the splits, estimates the
//! decoder statistics on the training split, trains with dev PER after every epoch (default
//! decoder parameters), tunes the decoder parameters on dev ([`super::tune`]), and writes the
//! model bundle (`model.safetensors`) and a JSON summary with dev and test scores.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use super::batching::SequenceRef;
use super::checkpoint::EpochSummary;
use super::config::TrainConfig;
use super::error::TrainError;
use super::evaluate::evaluate_float;
use super::kind::TrainableConfig;
use super::trainer::{train, TrainObserver, TrainRun};
use crate::data::Split;
use crate::decode::{
    align, Decoder, DecoderParams, ErrorCounts, PhoneBigram, StatePriors, TuningGrid, TuningOutcome,
};
use crate::features::{load_split, Dataset, LoadOptions};
use crate::model::{ModelBundle, ModelConfig, ModelParams};
use crate::rnn::{Architecture, RnnConfig};

/// Options of [`train_from_config`].
#[derive(Clone, Debug)]
pub struct PipelineOptions {
    pub config: PathBuf,
    pub data_dir: PathBuf,
    pub out_dir: PathBuf,
    /// Overrides `[train] include_kathleen`.
    pub include_kathleen: Option<bool>,
    /// Overrides `[train] epochs`.
    pub epochs: Option<usize>,
    /// Feature cache directory (None = the front end's default).
    pub cache_dir: Option<PathBuf>,
    /// Read the splits from dumps `train.bin`, `dev.bin`, `test.bin` in this directory
    /// (see [`super::dump`]) instead of the corpus.
    pub dump_dir: Option<PathBuf>,
    /// Tune the decoder parameters on dev after training (off for QAT fine-tuning, whose
    /// weights are used with the base model's decoder).
    pub tune_decoder: bool,
}

/// What a finished run reports (also written as `summary.json`); `C` is the model config.
#[derive(Clone, Debug, Serialize)]
pub struct TrainReport<C = ModelConfig> {
    pub model: C,
    pub train: TrainConfig,
    pub train_utterances: usize,
    pub train_frames: usize,
    pub best_epoch: usize,
    pub dev_frame_acc: f64,
    pub dev_per: f64,
    pub test_frame_acc: f64,
    pub test_per: f64,
    pub history: Vec<EpochSummary>,
    /// The decoder tuning on dev, if it ran (the bundle stores `best`; dev/test scores above
    /// use it).
    pub decoder_tuning: Option<TuningOutcome>,
    pub model_path: PathBuf,
}

/// Training views of every utterance of a dataset.
pub fn sequences(ds: &Dataset) -> Vec<SequenceRef<'_>> {
    ds.utterances
        .iter()
        .map(|u| SequenceRef {
            feats: &u.feats,
            targets: &u.targets,
            dim: u.dim,
        })
        .collect()
}

/// PER (percent) of decoded log posteriors against the dataset's reference phones.
pub fn score_per(decoder: &Decoder, ds: &Dataset, log_posteriors: &[Vec<f32>]) -> f64 {
    let counts: Vec<ErrorCounts> = ds
        .utterances
        .par_iter()
        .zip(log_posteriors.par_iter())
        .map(|(u, lp)| align(&u.phones, &decoder.decode(lp, u.num_frames())))
        .collect();
    let mut total = ErrorCounts::default();
    for c in &counts {
        total.add(c);
    }
    total.per()
}

/// Loads one split with the given options, mapping the front end's error.
pub fn load(data_dir: &Path, split: Split, opts: &LoadOptions) -> Result<Dataset, TrainError> {
    load_split(data_dir, split, opts)
        .map_err(|e| TrainError::Load(format!("{} ({split:?} split): {e}", data_dir.display())))
}

/// Float evaluation of a bundle on a dataset: (frame accuracy, PER).
pub fn evaluate_bundle(bundle: &ModelBundle, ds: &Dataset) -> Result<(f64, f64), TrainError> {
    evaluate_params::<ModelConfig>(&bundle.params, &bundle.decoder(), ds)
}

/// Float evaluation of any model kind's weights with a decoder: (frame accuracy, PER).
pub fn evaluate_params<C: TrainableConfig>(
    params: &C::Params,
    decoder: &Decoder,
    ds: &Dataset,
) -> Result<(f64, f64), TrainError> {
    let net = C::network(params)?;
    let seqs = sequences(ds);
    let eval = evaluate_float(&net, &seqs, None, 8)?;
    let per = score_per(decoder, ds, &eval.log_posteriors);
    Ok((eval.frame_acc, per))
}

/// A finished run of either model kind (what `mohaq train` prints).
pub enum AnyTrainReport {
    Sru(TrainReport<ModelConfig>),
    Rnn(TrainReport<RnnConfig>),
}

/// The scores `mohaq train` prints: best epoch (0-based), dev frame accuracy and PER, test
/// frame accuracy and PER, and the bundle written.
pub struct TrainScores<'a> {
    pub best_epoch: usize,
    pub dev_frame_acc: f64,
    pub dev_per: f64,
    pub test_frame_acc: f64,
    pub test_per: f64,
    pub model_path: &'a Path,
}

impl<C> TrainReport<C> {
    pub fn scores(&self) -> TrainScores<'_> {
        TrainScores {
            best_epoch: self.best_epoch,
            dev_frame_acc: self.dev_frame_acc,
            dev_per: self.dev_per,
            test_frame_acc: self.test_frame_acc,
            test_per: self.test_per,
            model_path: &self.model_path,
        }
    }
}

impl AnyTrainReport {
    pub fn scores(&self) -> TrainScores<'_> {
        match self {
            AnyTrainReport::Sru(r) => r.scores(),
            AnyTrainReport::Rnn(r) => r.scores(),
        }
    }
}

/// Trains the model a config file describes, whatever its kind (`[model] kind`): the SRU, or an
/// LSTM/GRU, through the same loop and pipeline.
pub fn train_any_from_config(
    opts: &PipelineOptions,
    observer: &mut dyn TrainObserver,
) -> Result<AnyTrainReport, TrainError> {
    match Architecture::load(&opts.config)? {
        Architecture::Sru(model) => Ok(AnyTrainReport::Sru(train_model(
            opts, model, None, None, observer,
        )?)),
        Architecture::Rnn(model) => Ok(AnyTrainReport::Rnn(train_model(
            opts, model, None, None, observer,
        )?)),
    }
}

/// Trains an SRU as described by a config file; see the module docs.
pub fn train_from_config(
    opts: &PipelineOptions,
    init: Option<ModelParams>,
    hook: Option<&dyn crate::model::network::MatrixHook>,
    observer: &mut dyn TrainObserver,
) -> Result<TrainReport, TrainError> {
    let model = ModelConfig::load(&opts.config)?;
    train_model(opts, model, init, hook, observer)
}

/// The pipeline of the module docs for a model of any kind, its config already read.
pub fn train_model<C: TrainableConfig>(
    opts: &PipelineOptions,
    model: C,
    init: Option<C::Params>,
    hook: Option<&dyn crate::model::network::MatrixHook>,
    observer: &mut dyn TrainObserver,
) -> Result<TrainReport<C>, TrainError> {
    let mut tc = TrainConfig::load(&opts.config)?;
    if let Some(k) = opts.include_kathleen {
        tc.include_kathleen = k;
    }
    if let Some(e) = opts.epochs {
        tc.epochs = e;
    }
    let load_opts = LoadOptions {
        include_kathleen: tc.include_kathleen,
        cache_dir: opts.cache_dir.clone(),
        ..LoadOptions::default()
    };
    let (train_ds, dev_ds, test_ds) = match &opts.dump_dir {
        Some(d) => (
            super::dump::read_dump(&d.join("train.bin"))?,
            super::dump::read_dump(&d.join("dev.bin"))?,
            super::dump::read_dump(&d.join("test.bin"))?,
        ),
        None => (
            load(&opts.data_dir, Split::Train, &load_opts)?,
            load(&opts.data_dir, Split::Dev, &load_opts)?,
            load(&opts.data_dir, Split::Test, &load_opts)?,
        ),
    };
    tracing::info!(
        train_utts = train_ds.utterances.len(),
        train_frames = train_ds.num_frames(),
        dev_utts = dev_ds.utterances.len(),
        test_utts = test_ds.utterances.len(),
        "data loaded"
    );
    let bigram = PhoneBigram::estimate(&train_ds);
    let priors = StatePriors::from_dataset(&train_ds);
    let decoder_params = DecoderParams::default();
    let decoder = Decoder::new(bigram.clone(), priors.clone(), decoder_params.clone());
    let train_seqs = sequences(&train_ds);
    let dev_seqs = sequences(&dev_ds);
    let per_fn = |lp: &[Vec<f32>]| score_per(&decoder, &dev_ds, lp);
    let outcome = train(
        TrainRun {
            model: model.clone(),
            train: tc.clone(),
            train_seqs: &train_seqs,
            dev_seqs: &dev_seqs,
            dev_per: Some(&per_fn),
            out_dir: &opts.out_dir,
            init,
            hook,
        },
        observer,
    )?;
    let best = outcome.best;
    let mut decoder_params = decoder_params;
    let decoder_tuning = if opts.tune_decoder {
        tracing::info!("tuning the decoder on dev");
        let net = C::network(&best)?;
        let dev_lp = evaluate_float(&net, &dev_seqs, None, 8)?.log_posteriors;
        let tuned = super::tune::tune_statistics_on_posteriors(
            &bigram,
            &priors,
            &dev_ds,
            &dev_lp,
            &TuningGrid::default(),
            &mut |_| {},
        )?;
        tracing::info!(
            params = ?tuned.best,
            dev_per = tuned.best_errors.per,
            points = tuned.evaluated,
            "decoder tuned"
        );
        decoder_params = tuned.best.clone();
        Some(tuned)
    } else {
        None
    };
    let model_path = opts.out_dir.join("model.safetensors");
    C::save_bundle(&best, &bigram, &priors, &decoder_params, &model_path)?;
    let decoder = Decoder::new(bigram, priors, decoder_params);
    let (dev_frame_acc, dev_per) = evaluate_params::<C>(&best, &decoder, &dev_ds)?;
    let (test_frame_acc, test_per) = evaluate_params::<C>(&best, &decoder, &test_ds)?;
    let report = TrainReport {
        model,
        train: tc,
        train_utterances: train_ds.utterances.len(),
        train_frames: train_ds.num_frames(),
        best_epoch: outcome.state.best_epoch,
        dev_frame_acc,
        dev_per,
        test_frame_acc,
        test_per,
        history: outcome.state.history,
        decoder_tuning,
        model_path,
    };
    let summary = opts.out_dir.join("summary.json");
    let json = serde_json::to_string_pretty(&report).map_err(|e| TrainError::Checkpoint {
        path: summary.clone(),
        message: e.to_string(),
    })?;
    std::fs::write(&summary, json).map_err(|e| TrainError::Checkpoint {
        path: summary.clone(),
        message: e.to_string(),
    })?;
    Ok(report)
}

/// Writes dumps of the three splits (`train.bin`, `dev.bin`, `test.bin`) into `dir`.
pub fn write_dumps(
    data_dir: &Path,
    dir: &Path,
    include_kathleen: bool,
    cache_dir: Option<PathBuf>,
) -> Result<(), TrainError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| TrainError::Load(format!("{}: {e}", dir.display())))?;
    let load_opts = LoadOptions {
        include_kathleen,
        cache_dir,
        ..LoadOptions::default()
    };
    for (split, name) in [
        (Split::Train, "train"),
        (Split::Dev, "dev"),
        (Split::Test, "test"),
    ] {
        let ds = load(data_dir, split, &load_opts)?;
        super::dump::write_dump(&dir.join(format!("{name}.bin")), &ds)?;
    }
    Ok(())
}
