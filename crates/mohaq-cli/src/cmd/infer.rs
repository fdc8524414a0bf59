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
    /// Audio file: WAV (8/16/24/32-bit integer or float PCM), FLAC or NIST SPHERE; other rates
    /// are resampled to 16 kHz and several channels downmixed (said on stderr).
    #[arg(long)]
    wav: PathBuf,
    /// Bit widths: 16 genes in the paper order (e.g. 8,4,4,4,8,4,4,4,4,4,4,4,4,4,4,4), 8 shared
    /// widths, or one width for all layers; an LSTM/GRU bundle takes its own gene order (two per
    /// matrix layer: L.., R.., P.. weights then activations, FC), one per layer, or one width.
    /// Default: the exported widths (a float bundle: 16).
    #[arg(long)]
    bits: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if let Some(text) = args.bits.as_deref() {
        super::note_fc_activation(text);
    }
    let recogniser = Recogniser::open(&args.model, args.bits.as_deref())?;
    let result = recogniser.recognise_file(&args.wav)?;
    if let Some(audio) = result.audio.filter(|a| a.changed()) {
        eprintln!("{}: {audio}", args.wav.display());
    }
    if let Some(level) = result.silent_dbfs {
        eprintln!(
            "{}: silent (loudest frame {level:.1} dBFS, below {} dBFS): no speech to recognise",
            args.wav.display(),
            mohaq_sru::features::level::SILENCE_DBFS
        );
    } else if result.segments > 1 {
        eprintln!(
            "{} frames in {} segments of {} s",
            result.frames,
            result.segments,
            mohaq_sru::deploy::recogniser::SEGMENT_FRAMES / 100
        );
    }
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
