//! `mohaq eval`: PER, frame accuracy and timing of a model at given per-layer bit widths.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use mohaq_sru::data::Split;
use mohaq_sru::features::LoadOptions;
use mohaq_sru::model::{ModelBundle, ModelConfig};
use mohaq_sru::quantized::{BitConfig, QuantizedEvaluator};

#[derive(Clone, Copy, clap::ValueEnum)]
enum SplitArg {
    Dev,
    Test,
}

/// Arguments of `mohaq eval`.
#[derive(clap::Args)]
pub struct Args {
    /// Model bundle (weights + decoder statistics), e.g. models/sru-default.safetensors.
    #[arg(long)]
    model: PathBuf,
    /// Model config; default: the config stored in the model file.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Bit widths as genes in the paper order (4·layers values, e.g. 16 for the SRU), or one
    /// value for all layers. Omit for the float model.
    #[arg(long)]
    bits: Option<String>,
    /// Split to evaluate.
    #[arg(long, value_enum, default_value = "dev")]
    split: SplitArg,
    /// Corpus directory (default: $MOHAQ_DATA or ../shared/data).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Per-utterance activation calibration even on the test split (default there: thresholds
    /// frozen as the median over the dev split).
    #[arg(long)]
    per_utterance: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if args.config.is_none()
        && mohaq_app::byom::AnyBundle::is_rnn(&args.model).map_err(|e| anyhow::anyhow!(e))?
    {
        return run_rnn(args);
    }
    let config = match &args.config {
        Some(p) => ModelConfig::load(p)?,
        None => ModelBundle::stored_config(&args.model)?
            .with_context(|| format!("{} stores no config: pass --config", args.model.display()))?,
    };
    let bundle = ModelBundle::load(&config, &args.model)?;
    let data_dir = args.data.unwrap_or_else(mohaq_sru::data::default_data_dir);
    let split = match args.split {
        SplitArg::Dev => Split::Dev,
        SplitArg::Test => Split::Test,
    };
    // The widths are checked before the (slow) data loading.
    let bits = args
        .bits
        .as_deref()
        .map(|text| -> anyhow::Result<BitConfig> {
            super::note_fc_activation(text);
            BitConfig::parse(&config, text).with_context(|| format!("--bits {text}"))
        })
        .transpose()?;
    let opts = LoadOptions::default();
    let ds = mohaq_sru::train::pipeline::load(&data_dir, split, &opts)?;
    let Some(bits) = bits else {
        let start = Instant::now();
        let (acc, per) = mohaq_sru::train::pipeline::evaluate_bundle(&bundle, &ds)?;
        outln!(
            "float | PER {per:.2}% | frame acc {:.2}% | {} utterances | {:.3} s",
            100.0 * acc,
            ds.utterances.len(),
            start.elapsed().as_secs_f64()
        );
        return Ok(());
    };
    let evaluator = QuantizedEvaluator::from_bundle(&bundle, &ds)?;
    let result = if matches!(split, Split::Test) && !args.per_utterance {
        let dev = mohaq_sru::train::pipeline::load(&data_dir, Split::Dev, &opts)?;
        let calibration = QuantizedEvaluator::from_bundle(&bundle, &dev)?;
        evaluator.evaluate_calibrated_on(&calibration, &bits)?
    } else {
        evaluator.evaluate(&bits)?
    };
    let layers = config.matrix_layers();
    let per_layer: Vec<String> = layers
        .iter()
        .zip(&bits.layers)
        .map(|(l, b)| format!("{}:{}/{}", l.name, b.weight, b.activation))
        .collect();
    outln!("bits {bits} ({})", per_layer.join(" "));
    outln!(
        "PER {:.2}% | frame acc {:.2}% | {} utterances, {} frames | {:.3} s",
        result.per,
        100.0 * result.frame_acc,
        result.utterances,
        result.frames,
        result.seconds
    );
    Ok(())
}

/// An LSTM/GRU bundle (from `mohaq import`).
fn run_rnn(args: Args) -> anyhow::Result<()> {
    let data_dir = args.data.unwrap_or_else(mohaq_sru::data::default_data_dir);
    let split = match args.split {
        SplitArg::Dev => Split::Dev,
        SplitArg::Test => Split::Test,
    };
    let report = mohaq_app::byom::evaluate_rnn(
        &args.model,
        args.bits.as_deref(),
        &data_dir,
        split,
        args.per_utterance,
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    let r = &report.result;
    outln!("bits {}", report.bits.as_deref().unwrap_or("float"));
    outln!(
        "PER {:.2}% | frame acc {:.2}% | {} utterances, {} frames | {:.3} s",
        r.per,
        100.0 * r.frame_acc,
        r.utterances,
        r.frames,
        r.seconds
    );
    Ok(())
}
