//! Whether a test can use Slurm. Without one a Slurm test prints why and passes, so
//! `cargo test` works on a laptop; when `MOHAQ_SLURM=1` (set by `.ci/run` after starting a
//! cluster) an unreachable Slurm fails the test instead.

use std::process::{Command, Stdio};

/// Environment variable that makes Slurm tests mandatory.
pub const REQUIRE_VAR: &str = "MOHAQ_SLURM";

/// Whether the controller answers (`scontrol ping`, then a node that is up in `sinfo`).
pub fn slurm_reachable() -> Result<(), String> {
    let out = Command::new("scontrol")
        .arg("ping")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run scontrol: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || !text.contains("UP") {
        return Err(format!(
            "scontrol ping: {} {}",
            text.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

/// `true` if the test may use Slurm; `false` (after printing a skip message) if Slurm is not
/// reachable and not required. Panics if `MOHAQ_SLURM=1` and Slurm is unreachable.
pub fn use_slurm(test: &str) -> bool {
    match slurm_reachable() {
        Ok(()) => true,
        Err(why) => {
            if std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1") {
                panic!("{test}: {REQUIRE_VAR}=1 but Slurm is unreachable: {why}");
            }
            eprintln!(
                "skipping {test}: no Slurm reachable ({why}); set {REQUIRE_VAR}=1 to require it"
            );
            false
        }
    }
}
