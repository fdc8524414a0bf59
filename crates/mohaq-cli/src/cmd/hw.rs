//! `mohaq hw`.

/// Arguments of `mohaq hw`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`mohaq hw` is not available yet")
}
