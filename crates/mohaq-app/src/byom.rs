//! Bring your own model: a PyTorch LSTM/GRU imported into a bundle (`mohaq import`), its
//! log-probabilities on a feature matrix (`mohaq forward`) and its PER at given widths
//! (`mohaq eval` on an LSTM/GRU bundle). The cells, the name-by-name checks and the bundle
//! format are mohaq-sru's [`mohaq_sru::rnn`]; this module ties them to the corpus and files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mohaq_precision::{GeneCodec, GeneLayout, LayerWidths};
use mohaq_sru::data::Split;
use mohaq_sru::decode::{DecoderParams, PhoneBigram, StatePriors};
use mohaq_sru::features::{LoadOptions, NUM_CLASSES};
use mohaq_sru::model::{ModelBundle, SruNetwork};
use mohaq_sru::quantized::{ActivationMode, BitConfig, EvalResult, QuantizedModel};
use mohaq_sru::rnn::import::import_state_dict;
use mohaq_sru::rnn::matrix_file::{read_matrix, write_csv};
use mohaq_sru::rnn::{float, Architecture, RnnBundle, RnnConfig, RnnEvaluator, RnnQuantized};
use mohaq_sru::train::evaluate::evaluate_float;
use mohaq_sru::train::pipeline::load;
use mohaq_sru::train::SequenceRef;
use serde::Serialize;

/// Any failure of these commands, with the file and item in its text.
pub type ByomError = Box<dyn std::error::Error + Send + Sync>;

fn invalid(message: String) -> ByomError {
    message.into()
}

/// What `mohaq import` is asked to do.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    pub pytorch: PathBuf,
    pub arch: PathBuf,
    pub out: PathBuf,
    pub data_dir: PathBuf,
    /// Overrides of `[model.names]` (the state_dict's module prefixes).
    pub rnn_prefix: Option<String>,
    pub proj_prefix: Option<String>,
    pub fc_prefix: Option<String>,
    /// Whether the training split includes Kathleen (as `mohaq train`'s default).
    pub include_kathleen: bool,
    pub force: bool,
}

/// What an import wrote.
#[derive(Clone, Debug, Serialize)]
pub struct ImportSummary {
    pub out: PathBuf,
    pub config: RnnConfig,
    pub tensors: usize,
    pub parameters: usize,
    /// Matrix layers with their (weight count, MACs per frame).
    pub layers: Vec<(String, usize, usize)>,
    pub genes: usize,
    pub train_utterances: usize,
}

/// The LSTM/GRU config of an architecture file (an SRU file is refused by name).
pub fn rnn_arch(path: &Path) -> Result<RnnConfig, ByomError> {
    match Architecture::load(path)? {
        Architecture::Rnn(c) => Ok(c),
        Architecture::Sru(_) => Err(invalid(format!(
            "{}: an SRU config (no `kind = \"lstm\"` or `\"gru\"` in [model]); import takes an \
             LSTM/GRU architecture",
            path.display()
        ))),
    }
}

/// Imports a PyTorch state_dict: names and shapes checked, decoder statistics (state priors,
/// phone bigram) estimated on the training split as `mohaq train` does, the bundle written.
pub fn import_pytorch(opts: &ImportOptions) -> Result<ImportSummary, ByomError> {
    if !opts.force && opts.out.exists() {
        return Err(invalid(format!(
            "{}: already exists; pass --force to overwrite it",
            opts.out.display()
        )));
    }
    let mut config = rnn_arch(&opts.arch)?;
    for (slot, value) in [
        (&mut config.names.rnn, &opts.rnn_prefix),
        (&mut config.names.proj, &opts.proj_prefix),
        (&mut config.names.fc, &opts.fc_prefix),
    ] {
        if let Some(v) = value {
            *slot = v.clone();
        }
    }
    if config.classes != NUM_CLASSES {
        return Err(invalid(format!(
            "{}: `model.classes` = {}, but the decoder's states are {NUM_CLASSES} (39 phones × 3 \
             segment thirds, METHOD §7); the output layer must have {NUM_CLASSES} classes",
            opts.arch.display(),
            config.classes
        )));
    }
    // The state_dict is checked before the (slow) corpus is read.
    let params = import_state_dict(&opts.pytorch, &config)?;
    let load_opts = LoadOptions {
        include_kathleen: opts.include_kathleen,
        ..LoadOptions::default()
    };
    let train = load(&opts.data_dir, Split::Train, &load_opts)?;
    if let Some(u) = train.utterances.iter().find(|u| u.dim != config.input_dim) {
        return Err(invalid(format!(
            "{}: `model.input_dim` = {}, but the features of {} have dimension {}",
            opts.arch.display(),
            config.input_dim,
            u.id,
            u.dim
        )));
    }
    let bundle = RnnBundle {
        params,
        bigram: PhoneBigram::estimate(&train),
        priors: StatePriors::from_dataset(&train),
        decoder_params: DecoderParams::default(),
    };
    bundle.save(&opts.out)?;
    let named = bundle.params.named();
    Ok(ImportSummary {
        out: opts.out.clone(),
        tensors: named.len(),
        parameters: named.iter().map(|(_, v)| v.len()).sum(),
        layers: config
            .matrix_layers()
            .into_iter()
            .map(|l| (l.name, l.weights, l.macs_per_frame))
            .collect(),
        genes: GeneCodec::new(config.layer_table(), GeneLayout::Independent).len(),
        train_utterances: train.utterances.len(),
        config,
    })
}

/// A bundle of either kind, read by the kind its metadata stores.
pub enum AnyBundle {
    Sru(Box<ModelBundle>),
    Rnn(Box<RnnBundle>),
}

impl AnyBundle {
    pub fn load(path: &Path) -> Result<Self, ByomError> {
        match Architecture::stored(path)? {
            Some(Architecture::Sru(c)) => {
                Ok(AnyBundle::Sru(Box::new(ModelBundle::load(&c, path)?)))
            }
            Some(Architecture::Rnn(c)) => Ok(AnyBundle::Rnn(Box::new(RnnBundle::load(&c, path)?))),
            None => Err(invalid(format!(
                "{}: stores no model config (not a bundle written by mohaq train or mohaq import)",
                path.display()
            ))),
        }
    }

    /// Whether the file at `path` is an LSTM/GRU bundle (decided by its stored config).
    pub fn is_rnn(path: &Path) -> Result<bool, ByomError> {
        Ok(matches!(
            Architecture::stored(path)?,
            Some(Architecture::Rnn(_))
        ))
    }
}

/// What `mohaq forward` wrote.
#[derive(Clone, Debug, Serialize)]
pub struct ForwardSummary {
    pub frames: usize,
    pub classes: usize,
    /// The widths used, per matrix layer (`None`: the float model).
    pub bits: Option<String>,
}

/// Log-probabilities of a feature matrix (CSV or `.npy`, used as given) as CSV, from the float
/// model or at `bits` (activations calibrated on this matrix, as the search does per utterance).
pub fn forward_file(
    model: &Path,
    features: &Path,
    out: &Path,
    bits: Option<&str>,
) -> Result<ForwardSummary, ByomError> {
    let bundle = AnyBundle::load(model)?;
    let m = read_matrix(features)?;
    let (lp, classes, shown) = match &bundle {
        AnyBundle::Rnn(b) => {
            let c = &b.params.config;
            check_dim(features, m.cols, c.input_dim)?;
            match bits {
                None => (
                    float::forward(&b.params, &m.values, m.rows)?,
                    c.classes,
                    None,
                ),
                Some(text) => {
                    let widths = c
                        .parse_bits(text)
                        .map_err(|e| invalid(format!("--bits {text}: {e}")))?;
                    let q = RnnQuantized::new(b.params.clone());
                    let mut alphas = vec![0f32; widths.len()];
                    let lp = q.forward(
                        &m.values,
                        m.rows,
                        &widths,
                        ActivationMode::PerUtterance,
                        &mut alphas,
                    )?;
                    (lp, c.classes, Some(describe(&c.layer_table(), &widths)))
                }
            }
        }
        AnyBundle::Sru(b) => {
            let c = &b.params.config;
            check_dim(features, m.cols, c.input_dim)?;
            match bits {
                None => (sru_float(b, &m.values, m.rows)?, c.classes, None),
                Some(text) => {
                    let bits = BitConfig::parse(c, text)
                        .map_err(|e| invalid(format!("--bits {text}: {e}")))?;
                    let q = QuantizedModel::new(b.params.clone());
                    let weights = q.weights(&bits)?;
                    let mut alphas = vec![0f32; bits.layers.len()];
                    let lp = q.forward(
                        &m.values,
                        m.rows,
                        &bits,
                        &weights,
                        ActivationMode::PerUtterance,
                        &mut alphas,
                    )?;
                    (
                        lp,
                        c.classes,
                        Some(describe(&c.layer_table(), &bits.layers)),
                    )
                }
            }
        }
    };
    write_csv(out, &lp, classes)?;
    Ok(ForwardSummary {
        frames: m.rows,
        classes,
        bits: shown,
    })
}

fn check_dim(path: &Path, found: usize, expected: usize) -> Result<(), ByomError> {
    if found != expected {
        return Err(invalid(format!(
            "{}: {found} values per frame, the model's input_dim is {expected}",
            path.display()
        )));
    }
    Ok(())
}

/// "L0:16/8 R0:4/16 …" for messages.
pub fn describe(table: &mohaq_precision::LayerTable, widths: &[LayerWidths]) -> String {
    table
        .names()
        .iter()
        .zip(widths)
        .map(|(n, w)| format!("{n}:{}/{}", w.weight, w.activation))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The SRU's float log-probabilities of one sequence (as training evaluates them).
fn sru_float(bundle: &ModelBundle, feats: &[f32], frames: usize) -> Result<Vec<f32>, ByomError> {
    let net = SruNetwork::from_params(&bundle.params)?;
    // The targets only feed the loss and accuracy, which are not used here.
    let targets = vec![0u32; frames];
    let seq = SequenceRef {
        feats,
        targets: &targets,
        dim: bundle.params.config.input_dim,
    };
    let eval = evaluate_float(&net, &[seq], None, 1)?;
    Ok(eval.log_posteriors.into_iter().next().unwrap_or_default())
}

/// Scores of an LSTM/GRU bundle on a split.
#[derive(Clone, Debug, Serialize)]
pub struct RnnEvalReport {
    pub bits: Option<String>,
    pub result: EvalResult,
}

/// `mohaq eval` on an LSTM/GRU bundle: the float model, or `bits` with per-utterance
/// calibration (dev) or thresholds frozen on the dev split (test, unless `per_utterance`).
pub fn evaluate_rnn(
    model: &Path,
    bits: Option<&str>,
    data_dir: &Path,
    split: Split,
    per_utterance: bool,
) -> Result<RnnEvalReport, ByomError> {
    let AnyBundle::Rnn(bundle) = AnyBundle::load(model)? else {
        return Err(invalid(format!(
            "{}: not an LSTM/GRU bundle",
            model.display()
        )));
    };
    let c = &bundle.params.config;
    let widths = bits
        .map(|t| {
            c.parse_bits(t)
                .map_err(|e| invalid(format!("--bits {t}: {e}")))
        })
        .transpose()?;
    let opts = LoadOptions::default();
    let ds = load(data_dir, split, &opts)?;
    let evaluator = Arc::new(RnnEvaluator::from_bundle(&bundle, &ds)?);
    let Some(widths) = widths else {
        return Ok(RnnEvalReport {
            bits: None,
            result: evaluator.evaluate_float()?,
        });
    };
    let result = if matches!(split, Split::Test) && !per_utterance {
        let dev = load(data_dir, Split::Dev, &opts)?;
        let calibration = RnnEvaluator::from_bundle(&bundle, &dev)?;
        evaluator.evaluate_calibrated_on(&calibration, &widths)?
    } else {
        evaluator.evaluate(&widths)?
    };
    Ok(RnnEvalReport {
        bits: Some(describe(&c.layer_table(), &widths)),
        result,
    })
}
