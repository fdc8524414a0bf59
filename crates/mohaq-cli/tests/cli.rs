//! The `mohaq` binary as a user meets it: help text, bad input, closed pipes.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn mohaq() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mohaq"));
    command.current_dir(workspace_root());
    command
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `mohaq hw eval` of the paper workload on SiLago at `bits`.
fn silago_eval(bits: &str) -> Command {
    let mut command = mohaq();
    command.args([
        "hw",
        "eval",
        "--platform",
        "platforms/silago.toml",
        "--bits",
        bits,
    ]);
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_no_panic(output: &Output) {
    let stderr = text(&output.stderr);
    assert!(
        !stderr.contains("panicked"),
        "the binary panicked:\n{stderr}"
    );
}

#[test]
fn every_subcommand_has_help() {
    for sub in [
        "data", "features", "hw", "train", "eval", "search", "beacon", "report", "export", "infer",
    ] {
        let output = mohaq().args([sub, "--help"]).output().unwrap();
        assert!(output.status.success(), "mohaq {sub} --help failed");
        let help = text(&output.stdout);
        assert!(help.contains("Usage: mohaq"), "mohaq {sub} --help:\n{help}");
    }
}

/// `mohaq hw eval --json | head`: when the reader has gone, the binary stops quietly (no panic,
/// no error message, status 0) like any Unix filter.
#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = silago_eval("8,8,8,8,8,8,8,8")
        .arg("--json")
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_no_panic(&output);
    assert!(output.status.success(), "status {:?}", output.status);
    assert_eq!(text(&output.stderr), "");
}

#[test]
fn a_broken_experiment_file_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.toml");
    std::fs::write(
        &path,
        "name = \"x\"\nkind = \"silago\"\n[search]\npop_size = \"many\"\n",
    )
    .unwrap();
    let output = mohaq()
        .args(["search", "--experiment"])
        .arg(&path)
        .output()
        .unwrap();
    assert_no_panic(&output);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("broken.toml"),
        "error does not name the file:\n{stderr}"
    );
}

#[test]
fn an_impossible_bit_width_is_refused_with_a_message() {
    let output = silago_eval("8,8,3,8,8,8,8,8").output().unwrap();
    assert_no_panic(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains('3'),
        "{}",
        text(&output.stderr)
    );
}

/// A second `mohaq search` on a run directory someone holds is refused before any loading,
/// naming the holder's pid (this test process holds the lock, as a running search would). It
/// fails if the binary does not check the lock, or checks it only after loading the model
/// (then it would fail on the missing data instead, without the pid).
#[test]
fn a_search_on_a_busy_run_directory_is_refused_with_the_holders_pid() {
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("run");
    let _held = mohaq_fsio::DirLock::acquire(&run_dir).unwrap();
    let output = mohaq()
        .args([
            "search",
            "--experiment",
            "experiments/compression.toml",
            "--out",
        ])
        .arg(&run_dir)
        .args(["--data", "/nonexistent-corpus"])
        .output()
        .unwrap();
    assert_no_panic(&output);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!("pid {}", std::process::id())),
        "{stderr}"
    );
}

/// `mohaq export --out` never replaces an existing file unless `--force` is given; the check
/// comes first, so it needs no finished run. It fails if the export overwrote or truncated the
/// file, or if `--force` were still refused.
#[test]
fn export_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("model.safetensors");
    std::fs::write(&out, b"keep me").unwrap();
    let export = |force: bool| {
        let mut command = mohaq();
        command
            .arg("export")
            .arg(dir.path().join("no-run"))
            .args(["--solution", "0", "--out"])
            .arg(&out);
        if force {
            command.arg("--force");
        }
        command.output().unwrap()
    };
    let refused = export(false);
    assert_no_panic(&refused);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("already exists") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
    // With --force the overwrite check passes; this fails later, on the missing run.
    let forced = export(true);
    assert_no_panic(&forced);
    let stderr = text(&forced.stderr);
    assert!(
        !stderr.contains("already exists") && stderr.contains("front"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
}
