//! `mohaq train`: train an SRU, LSTM or GRU model (`[model] kind`) from a config file, with a progress bar per epoch.

use std::io::Write as _;
use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};
use mohaq_sru::train::{BatchProgress, EpochSummary, PipelineOptions, TrainObserver};

/// Arguments of `mohaq train`.
#[derive(clap::Args)]
pub struct Args {
    /// Model config (TOML with [model] and optional [train] tables).
    #[arg(long)]
    config: PathBuf,
    /// Corpus directory (default: $MOHAQ_DATA or ../shared/data).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Output directory: checkpoint, best weights, model.safetensors, summary.json.
    /// A checkpoint already there is resumed.
    #[arg(long, required_unless_present = "write_dump")]
    out: Option<PathBuf>,
    /// Override the number of epochs.
    #[arg(long)]
    epochs: Option<usize>,
    /// Train without the Kathleen corpus (TIMIT sample dr1–dr4 only).
    #[arg(long, conflicts_with = "kathleen")]
    no_kathleen: bool,
    /// Train with the Kathleen corpus (overrides the config).
    #[arg(long)]
    kathleen: bool,
    /// Feature cache directory.
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Read the splits from dumps in this directory (train.bin, dev.bin, test.bin).
    #[arg(long)]
    dump_dir: Option<PathBuf>,
    /// Only write dumps of the splits into this directory, then exit.
    #[arg(long)]
    write_dump: Option<PathBuf>,
    /// Hide the progress bar (log lines only).
    #[arg(long)]
    quiet: bool,
}

struct BarObserver {
    bar: Option<ProgressBar>,
    quiet: bool,
}

impl TrainObserver for BarObserver {
    fn epoch_started(&mut self, epoch: usize, epochs: usize, batches: usize, lr: f64) {
        if self.quiet {
            return;
        }
        let bar = ProgressBar::new(batches as u64);
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed}<{eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(format!("epoch {}/{} lr {lr:.2e}", epoch + 1, epochs));
        self.bar = Some(bar);
    }

    fn batch_done(&mut self, p: &BatchProgress) {
        if let Some(bar) = &self.bar {
            bar.set_position(p.batch as u64 + 1);
            bar.set_message(format!(
                "loss {:.3} acc {:.1}% {:.0} frames/s",
                p.loss,
                100.0 * p.frame_acc,
                p.frames_per_second
            ));
        }
    }

    fn epoch_finished(&mut self, s: &EpochSummary) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        // An observer cannot fail: a closed stdout must not stop the training.
        let _ = writeln!(
            std::io::stdout(),
            "epoch {:>2}: lr {:.2e} chunk {:>4} | train loss {:.3} acc {:.1}% | dev loss {:.3} acc {:.1}% PER {} | {:.0} frames/s, {:.0} s",
            s.epoch + 1,
            s.learning_rate,
            s.chunk_length,
            s.train_loss,
            100.0 * s.train_frame_acc,
            s.dev_loss,
            100.0 * s.dev_frame_acc,
            s.dev_per.map_or("-".to_string(), |p| format!("{p:.2}%")),
            s.frames_per_second,
            s.seconds
        );
    }

    fn resumed(&mut self, epochs_done: usize, path: &std::path::Path) {
        let _ = writeln!(
            std::io::stdout(),
            "resuming after epoch {epochs_done} from {}",
            path.display()
        );
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let include_kathleen = if args.no_kathleen {
        Some(false)
    } else if args.kathleen {
        Some(true)
    } else {
        None
    };
    let data_dir = args.data.unwrap_or_else(mohaq_sru::data::default_data_dir);
    if let Some(dir) = args.write_dump {
        let tc = mohaq_sru::train::TrainConfig::load(&args.config)?;
        let k = include_kathleen.unwrap_or(tc.include_kathleen);
        mohaq_sru::train::pipeline::write_dumps(&data_dir, &dir, k, args.cache_dir)?;
        outln!("dumps written to {}", dir.display());
        return Ok(());
    }
    let opts = PipelineOptions {
        config: args.config,
        data_dir,
        out_dir: args.out.unwrap_or_default(),
        dump_dir: args.dump_dir,
        include_kathleen,
        epochs: args.epochs,
        cache_dir: args.cache_dir,
        tune_decoder: true,
    };
    let mut obs = BarObserver {
        bar: None,
        quiet: args.quiet,
    };
    let report = mohaq_sru::train::train_any_from_config(&opts, &mut obs)?;
    let report = report.scores();
    outln!(
        "done: best epoch {} | dev acc {:.2}% PER {:.2}% | test acc {:.2}% PER {:.2}% | model {}",
        report.best_epoch + 1,
        100.0 * report.dev_frame_acc,
        report.dev_per,
        100.0 * report.test_frame_acc,
        report.test_per,
        report.model_path.display()
    );
    Ok(())
}
