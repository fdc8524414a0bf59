//! kill -9 in the middle of atomic writes: the target is always absent or complete.
//!
//! The test re-runs its own binary as a child (the ignored `child_writer` test, switched on by
//! an environment variable) that rewrites one large file in a loop with `write_atomic`, kills it
//! with SIGKILL after a few milliseconds, and reads the target. It fails if the target is ever
//! short or mixed (a partial write under the final name), and if no kill landed inside a write
//! at all (no temporary file left behind in any round), which would mean it tested nothing.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

const SIZE: usize = 16 << 20;
const TARGET_ENV: &str = "MOHAQ_FSIO_KILL_TARGET";

#[test]
#[ignore = "child process of kill_9_mid_write_never_leaves_a_partial_target"]
fn child_writer() {
    let Ok(target) = std::env::var(TARGET_ENV) else {
        return;
    };
    for generation in 0u8.. {
        let payload = vec![generation.wrapping_add(1); SIZE];
        mohaq_fsio::write_atomic(Path::new(&target), &payload).unwrap();
    }
}

#[test]
fn kill_9_mid_write_never_leaves_a_partial_target() {
    let dir = tempfile::tempdir().unwrap();
    let mut interrupted = 0;
    // Each round waits until the child has started writing (a temporary exists), so a slow
    // start on a loaded machine cannot make every kill land before the first write.
    for (round, delay_ms) in [0u64, 2, 5, 10, 20].into_iter().enumerate() {
        let round_dir = dir.path().join(format!("round{round}"));
        std::fs::create_dir(&round_dir).unwrap();
        let target = round_dir.join("model.safetensors");
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child_writer", "--ignored", "--test-threads=1"])
            .env(TARGET_ENV, &target)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while count_temps(&round_dir) == 0 && started.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        if let Ok(bytes) = std::fs::read(&target) {
            assert_eq!(bytes.len(), SIZE, "round {round}: partial target");
            assert!(
                bytes.iter().all(|&b| b == bytes[0]),
                "round {round}: mixed generations"
            );
        }
        interrupted += usize::from(count_temps(&round_dir) > 0);
    }
    assert!(interrupted > 0, "no kill landed inside a write");
}

/// Temporaries (`*.tmp`) in `dir`: a write in progress, or one a kill interrupted.
fn count_temps(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".tmp")
        })
        .count()
}
