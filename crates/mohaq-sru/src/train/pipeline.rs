//! End-to-end training from a config file and a corpus directory: loads the splits, estimates the
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
use super::trainer::{train, TrainObserver, TrainRun};
use crate::data::Split;
use crate::decode::{
    align, Decoder, DecoderParams, ErrorCounts, PhoneBigram, StatePriors, TuningGrid, TuningOutcome,
};
use crate::features::{load_split, Dataset, LoadOptions};
use crate::model::{ModelBundle, ModelConfig, ModelParams, SruNetwork};

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

/// What a finished run reports (also written as `summary.json`).
#[derive(Clone, Debug, Serialize)]
pub struct TrainReport {
    pub model: ModelConfig,
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
    let net = SruNetwork::from_params(&bundle.params)?;
    let seqs = sequences(ds);
    let eval = evaluate_float(&net, &seqs, None, 8)?;
    let per = score_per(&bundle.decoder(), ds, &eval.log_posteriors);
    Ok((eval.frame_acc, per))
}

/// Trains a model as described by a config file; see the module docs.
pub fn train_from_config(
    opts: &PipelineOptions,
    init: Option<ModelParams>,
    hook: Option<&dyn crate::model::network::MatrixHook>,
    observer: &mut dyn TrainObserver,
) -> Result<TrainReport, TrainError> {
    let model = ModelConfig::load(&opts.config)?;
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
    let mut bundle = ModelBundle {
        params: outcome.best,
        bigram,
        priors,
        decoder_params,
    };
    let decoder_tuning = if opts.tune_decoder {
        tracing::info!("tuning the decoder on dev");
        let tuned = super::tune::tune_on(&bundle, &dev_ds, &TuningGrid::default(), &mut |_| {})?;
        tracing::info!(
            params = ?tuned.best,
            dev_per = tuned.best_errors.per,
            points = tuned.evaluated,
            "decoder tuned"
        );
        bundle.decoder_params = tuned.best.clone();
        Some(tuned)
    } else {
        None
    };
    let model_path = opts.out_dir.join("model.safetensors");
    bundle.save(&model_path)?;
    let (dev_frame_acc, dev_per) = evaluate_bundle(&bundle, &dev_ds)?;
    let (test_frame_acc, test_per) = evaluate_bundle(&bundle, &test_ds)?;
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
