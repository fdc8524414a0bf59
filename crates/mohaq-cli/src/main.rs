//! `mohaq`: a thin command-line layer over the mohaq crates. Every subcommand parses its arguments,
//! calls one library function and prints the result; the logic lives in the crates.

/// `println!` that returns an error instead of panicking when stdout is closed (e.g. `mohaq hw
/// eval --json | head`); `main` ends quietly on a broken pipe.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*)?
    }};
}

/// `print!` counterpart of [`outln!`].
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout(), $($arg)*)?
    }};
}

mod cmd;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "mohaq",
    version,
    about = "Multi-objective hardware-aware quantization of recurrent speech models"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Inspect and validate speech corpora.
    Data(cmd::data::Args),
    /// Compute filterbank features of one utterance and write them to a file.
    Features(cmd::features::Args),
    /// Hardware cost models.
    Hw(cmd::hw::Args),
    /// Train a model of a config (SRU, LSTM or GRU): float, or quantization-aware fine-tuning.
    Train(cmd::train::Args),
    /// Tune a model's Viterbi decoder parameters on the dev split and store them in the file.
    TuneDecoder(cmd::tune_decoder::Args),
    /// Evaluate a model at given per-layer bit widths: PER, frame accuracy, timing.
    Eval(cmd::eval::Args),
    /// Search per-layer bit widths (NSGA-II) as an experiment file describes; resumable.
    Search(cmd::search::Args),
    /// The exhaustive true front of an experiment with a small space (SiLago's 6,561).
    Exhaustive(cmd::exhaustive::Args),
    /// Inspect the retrained beacons of a run or a beacon store.
    Beacon(cmd::beacon::Args),
    /// Print and plot the final Pareto front of a search run.
    Report(cmd::report::Args),
    /// Write one solution of a finished search as a quantized model (packed weights + scales).
    Export(cmd::export::Args),
    /// Import a PyTorch LSTM/GRU state_dict (safetensors) as a model bundle.
    Import(cmd::import::Args),
    /// Write the log-probabilities of a feature matrix (CSV or .npy) as CSV.
    Forward(cmd::forward::Args),
    /// Recognise the phones of one audio file with an exported (or float) model.
    Infer(cmd::infer::Args),
    /// Run one task of a batch the Slurm executor submitted (called by Slurm, not by hand).
    Worker(cmd::worker::Args),
}

fn main() {
    mohaq_app::logging::init_stderr();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Data(args) => cmd::data::run(args),
        Command::Features(args) => cmd::features::run(args),
        Command::Hw(args) => cmd::hw::run(args),
        Command::Train(args) => cmd::train::run(args),
        Command::TuneDecoder(args) => cmd::tune_decoder::run(args),
        Command::Eval(args) => cmd::eval::run(args),
        Command::Search(args) => cmd::search::run(args),
        Command::Exhaustive(args) => cmd::exhaustive::run(args),
        Command::Beacon(args) => cmd::beacon::run(args),
        Command::Report(args) => cmd::report::run(args),
        Command::Export(args) => cmd::export::run(args),
        Command::Infer(args) => cmd::infer::run(args),
        Command::Import(args) => cmd::import::run(args),
        Command::Forward(args) => cmd::forward::run(args),
        Command::Worker(args) => cmd::worker::run(args),
    };
    if let Err(err) = result {
        if is_broken_pipe(&err) {
            // The reader stopped reading (`| head`): nothing left to say, as for any Unix tool.
            std::process::exit(0);
        }
        eprintln!("error: {}", render_error(&err));
        std::process::exit(1);
    }
}

/// The error and its causes joined by ": ", leaving out a cause whose text the message already
/// holds: many errors print their source themselves (`path: No such file or directory (os
/// error 2)`), and printing the chain again doubled paths and OS errors.
fn render_error(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
