//! Project automation. `cargo xtask reproduce [--quick]` reruns the paper's experiments.

use clap::{Parser, Subcommand};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Rerun the paper's experiments on the shipped model and data, write results/REPORT.md.
    Reproduce {
        /// Small budgets, same code paths.
        #[arg(long)]
        quick: bool,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Reproduce { quick: _ } => anyhow::bail!("reproduce is not available yet"),
    }
}
