//! `mohaq data`: corpus statistics and checks.

use std::path::PathBuf;

use mohaq_sru::data::audio::AudioPolicy;
use mohaq_sru::data::check::check_corpus_with;
use mohaq_sru::data::default_data_dir;
use mohaq_sru::data::phones::PHONES39;
use mohaq_sru::data::stats::split_stats;
use mohaq_sru::features::FbankOptions;

/// Arguments of `mohaq data`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: DataCommand,
}

#[derive(clap::Subcommand)]
enum DataCommand {
    /// Utterances, speakers, hours, frames and phone counts per split.
    Stats {
        /// Data directory (default: $MOHAQ_DATA or ../shared/data).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Leave the Kathleen corpus out of the training split.
        #[arg(long)]
        no_kathleen: bool,
    },
    /// Check every audio and label file; lists all problems, exits non-zero if there are any.
    Check {
        /// Data directory (default: $MOHAQ_DATA or ../shared/data).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Accept other sample rates and several channels (resampled to 16 kHz and downmixed,
        /// as `mohaq infer` does) instead of reporting them.
        #[arg(long)]
        resample: bool,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        DataCommand::Stats { data, no_kathleen } => {
            stats(data.unwrap_or_else(default_data_dir), !no_kathleen)
        }
        DataCommand::Check { data, resample } => {
            check(data.unwrap_or_else(default_data_dir), resample)
        }
    }
}

fn stats(data: PathBuf, include_kathleen: bool) -> anyhow::Result<()> {
    let stats = split_stats(&data, FbankOptions::default().geometry(), include_kathleen)?;
    outln!(
        "{:<6} {:>10} {:>8} {:>7} {:>10} {:>8}",
        "split",
        "utterances",
        "speakers",
        "hours",
        "frames",
        "phones"
    );
    for s in &stats {
        let phones: usize = s.phone_counts.iter().sum();
        outln!(
            "{:<6} {:>10} {:>8} {:>7.3} {:>10} {:>8}",
            s.split,
            s.utterances,
            s.speakers,
            s.hours(),
            s.frames,
            phones
        );
    }
    outln!();
    out!("{:<6}", "phone");
    for s in &stats {
        out!(" {:>8}", s.split);
    }
    outln!();
    for (i, name) in PHONES39.iter().enumerate() {
        out!("{name:<6}");
        for s in &stats {
            out!(" {:>8}", s.phone_counts[i]);
        }
        outln!();
    }
    Ok(())
}

fn check(data: PathBuf, resample: bool) -> anyhow::Result<()> {
    let rate = FbankOptions::default().sample_rate;
    let policy = if resample {
        AudioPolicy::converting(rate)
    } else {
        AudioPolicy::strict(rate)
    };
    let report = check_corpus_with(&data, policy)?;
    for problem in &report.problems {
        outln!("{problem}");
    }
    if report.is_clean() {
        outln!(
            "{}: {} utterances, no problems",
            data.display(),
            report.utterances
        );
        Ok(())
    } else {
        anyhow::bail!(
            "{}: {} problems in {} utterances",
            data.display(),
            report.problems.len(),
            report.utterances
        )
    }
}
