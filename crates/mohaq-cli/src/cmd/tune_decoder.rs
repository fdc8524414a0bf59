//! `mohaq tune-decoder`: tune a model's Viterbi parameters on dev and store them in the file.

use std::path::PathBuf;

use anyhow::Context;
use mohaq_app::decoder_tuning::{tune_model_file, TuneOptions};
use mohaq_sru::decode::{DecoderParams, TuningGrid};

/// Arguments of `mohaq tune-decoder`.
#[derive(clap::Args)]
pub struct Args {
    /// Model bundle to tune, e.g. models/sru-default.safetensors (rewritten unless --out).
    #[arg(long)]
    model: PathBuf,
    /// Write the tuned bundle here instead of back into --model.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Corpus directory (default: $MOHAQ_DATA or ../shared/data).
    #[arg(long)]
    data: Option<PathBuf>,
    /// LM weights to search, comma-separated ascending (default 0,0.5,1,1.5,2,3,4,6,8).
    #[arg(long)]
    lm_weights: Option<String>,
    /// Insertion penalties (negative = bonus) to search (default -8,-7,…,4).
    #[arg(long, allow_hyphen_values = true)]
    insertion_penalties: Option<String>,
    /// Self-loop probabilities to search (default 0.1,0.2,…,0.8).
    #[arg(long)]
    self_loops: Option<String>,
    /// Prior scales to search (default 0,0.25,0.5,0.75,1).
    #[arg(long)]
    prior_scales: Option<String>,
    /// Shortest phone durations (frames, 3 or more) to search (default 3).
    #[arg(long)]
    min_frames: Option<String>,
    /// Rounds of widening an axis whose best value sits on the grid's edge.
    #[arg(long, default_value_t = 4)]
    max_widenings: usize,
    /// Skip decoding the test split before and after (it never selects anything).
    #[arg(long)]
    no_test: bool,
}

fn values<T: std::str::FromStr>(
    flag: &str,
    text: Option<&str>,
    default: Vec<T>,
) -> anyhow::Result<Vec<T>>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    let Some(text) = text else {
        return Ok(default);
    };
    text.split(',')
        .map(|v| {
            v.trim()
                .parse::<T>()
                .with_context(|| format!("--{flag}: `{}` is not a number", v.trim()))
        })
        .collect()
}

fn show(p: &DecoderParams) -> String {
    format!(
        "LM weight {}, insertion penalty {}, self-loop {}, prior scale {}, min. {} frames/phone",
        p.lm_weight, p.insertion_penalty, p.self_loop_prob, p.prior_scale, p.min_frames
    )
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let d = TuningGrid::default();
    let grid = TuningGrid {
        lm_weight: values("lm-weights", args.lm_weights.as_deref(), d.lm_weight)?,
        insertion_penalty: values(
            "insertion-penalties",
            args.insertion_penalties.as_deref(),
            d.insertion_penalty,
        )?,
        self_loop_prob: values("self-loops", args.self_loops.as_deref(), d.self_loop_prob)?,
        prior_scale: values("prior-scales", args.prior_scales.as_deref(), d.prior_scale)?,
        min_frames: values("min-frames", args.min_frames.as_deref(), d.min_frames)?,
        max_widenings: args.max_widenings,
    };
    grid.validate().map_err(anyhow::Error::msg)?;
    let opts = TuneOptions {
        model: args.model,
        out: args.out,
        data_dir: args.data.unwrap_or_else(mohaq_sru::data::default_data_dir),
        grid,
        report_test: !args.no_test,
    };
    let r = tune_model_file(&opts).map_err(|e| anyhow::anyhow!(e))?;
    let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}%"));
    outln!("before: {}", show(&r.before));
    outln!("after:  {}", show(&r.after));
    outln!(
        "dev PER {:.2}% -> {:.2}% | test PER {} -> {} | {} points, {} widening rounds, {:.1} s",
        r.dev_per_before,
        r.dev_per_after,
        pct(r.test_per_before),
        pct(r.test_per_after),
        r.outcome.evaluated,
        r.outcome.widenings,
        r.seconds
    );
    outln!("written to {}", r.written.display());
    Ok(())
}
