//! `mohaq infer`: the recognised phone sequence of one audio file.

use std::path::PathBuf;

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
    let recogniser = Recogniser::open(&args.model, args.bits.as_deref())?;
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
