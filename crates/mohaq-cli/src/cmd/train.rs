//! `mohaq train`.

/// Arguments of `mohaq train`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`mohaq train` is not available yet")
}
