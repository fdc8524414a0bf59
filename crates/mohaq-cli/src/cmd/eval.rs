//! `mohaq eval`.

/// Arguments of `mohaq eval`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`mohaq eval` is not available yet")
}
