//! `mohaq features`.

/// Arguments of `mohaq features`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`mohaq features` is not available yet")
}
