//! `mohaq beacon`: inspect the beacons of a run and the beacon store.

use std::path::PathBuf;

use mohaq_beacon::beacons::load_records;
use mohaq_beacon::BeaconStore;

/// Arguments of `mohaq beacon`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: BeaconCommand,
}

#[derive(clap::Subcommand)]
enum BeaconCommand {
    /// List the beacons a run created or used.
    List {
        /// Run directory written by `mohaq search`.
        run_dir: PathBuf,
    },
    /// List a beacon store and verify every checksum.
    Verify {
        /// Beacon store folder (default of a run: `<run dir>/../beacon-store`).
        store: PathBuf,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        BeaconCommand::List { run_dir } => {
            let records = load_records(&run_dir)?;
            outln!("beacon 0: the base model (all 16 bits)");
            for r in records {
                outln!(
                    "beacon {}: {} key {} ({}; {:.1} s)",
                    r.index,
                    r.bits.display_genes(),
                    r.key,
                    if r.reused_from_store {
                        "reused from the store"
                    } else {
                        "retrained"
                    },
                    r.retrain_seconds
                );
            }
        }
        BeaconCommand::Verify { store } => {
            let verified = BeaconStore::new(store).verify()?;
            let mut bad = 0;
            for (m, ok) in &verified {
                bad += usize::from(!ok);
                outln!(
                    "{} {} epochs {} {}",
                    m.key,
                    m.bits.display_genes(),
                    m.epochs,
                    if *ok { "ok" } else { "CORRUPT" }
                );
            }
            if bad > 0 {
                anyhow::bail!(
                    "{bad} of {} beacons are corrupt; delete them to retrain",
                    verified.len()
                );
            }
        }
    }
    Ok(())
}
