//! `mohaq features`: the filterbank features and frame targets of one utterance, for inspection.

use std::path::PathBuf;

use mohaq_sru::data::corpus::Corpus;
use mohaq_sru::data::default_data_dir;
use mohaq_sru::data::splits::split_of;
use mohaq_sru::features::{
    load_entries, load_utterance, write_utterance, Fbank, FbankOptions, LoadOptions,
};

/// Arguments of `mohaq features`.
#[derive(clap::Args)]
pub struct Args {
    /// Utterance id, e.g. `dr1-fvmh0/si836` or `arctic_a0001_1592748574`.
    #[arg(long)]
    utt: String,
    /// Output file: `*.safetensors`, or anything else for text (one frame per line).
    #[arg(long)]
    out: PathBuf,
    /// Data directory (default: $MOHAQ_DATA or ../shared/data).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Number of mel bins.
    #[arg(long, default_value_t = 23)]
    num_bins: usize,
    /// Normalise with the statistics of the speaker's utterances in the same split, as training does.
    #[arg(long)]
    cmvn: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let data = args.data.unwrap_or_else(default_data_dir);
    let corpus = Corpus::discover(&data)?;
    let entry =
        corpus
            .find(&args.utt)
            .ok_or_else(|| mohaq_sru::data::DataError::UnknownUtterance {
                data_dir: data.clone(),
                id: args.utt.clone(),
            })?;
    let opts = LoadOptions {
        fbank: FbankOptions {
            num_bins: args.num_bins,
            ..FbankOptions::default()
        },
        ..LoadOptions::default()
    };
    let utt = if args.cmvn {
        let split = split_of(entry);
        let same_speaker: Vec<_> = corpus
            .utterances
            .iter()
            .filter(|u| u.speaker == entry.speaker && split_of(u) == split)
            .collect();
        let set = load_entries(&same_speaker, &opts)?;
        set.utterances
            .into_iter()
            .find(|u| u.id == entry.id)
            .ok_or_else(|| anyhow::anyhow!("{} not loaded", entry.id))?
    } else {
        let cache =
            mohaq_sru::features::FeatureCache::new(mohaq_sru::features::default_cache_dir());
        load_utterance(entry, &Fbank::new(&opts.fbank)?, Some(&cache))?
    };
    write_utterance(&args.out, &utt)?;
    outln!(
        "{}: {} frames x {} -> {}",
        utt.id,
        utt.num_frames(),
        utt.dim,
        args.out.display()
    );
    Ok(())
}
