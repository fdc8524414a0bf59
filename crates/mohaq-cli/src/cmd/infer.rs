//! `mohaq infer`: the recognised phone sequence of one audio file.

use std::path::PathBuf;

use anyhow::Context;
use mohaq_app::sru_model::bit_config;
use mohaq_beacon::LayerBits;
use mohaq_sru::deploy::Recogniser;

/// Arguments of `mohaq infer`.
#[derive(clap::Args)]
pub struct Args {
    /// A model written by `mohaq export` (with its `.rest.safetensors` companion next to it), or
    /// a float model bundle such as models/sru-default.safetensors.
    #[arg(long)]
    model: PathBuf,
    /// Audio file: WAV, FLAC or NIST SPHERE, 16 kHz mono.
    #[arg(long)]
    wav: PathBuf,
    /// Bit widths: 16 genes in the paper order (e.g. 8,4,4,4,8,4,4,4,4,4,4,4,4,4,4,4), 8 shared
    /// widths, or one width for all layers. Default: the exported widths (a float bundle: 16).
    #[arg(long)]
    bits: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let bits = args
        .bits
        .as_deref()
        .map(|text| {
            if text.contains(',') {
                LayerBits::parse(text)
            } else {
                let b: u32 = text.trim().parse().unwrap_or(0);
                LayerBits::from_shared_genes(&[b; 8])
            }
            .with_context(|| format!("--bits {text}"))
            .and_then(|b| Ok(bit_config(&b)?))
        })
        .transpose()?;
    let recogniser = Recogniser::open(&args.model, bits.as_ref())?;
    let result = recogniser.recognise_file(&args.wav)?;
    eprintln!(
        "{} frames; bits {} ({} activation thresholds)",
        result.frames,
        recogniser.genes(),
        if recogniser.frozen() {
            "frozen"
        } else {
            "per-utterance"
        }
    );
    outln!("{}", result.phones.join(" "));
    Ok(())
}
