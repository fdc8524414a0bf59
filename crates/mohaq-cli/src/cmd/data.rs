//! `mohaq data`.

/// Arguments of `mohaq data`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`mohaq data` is not available yet")
}
