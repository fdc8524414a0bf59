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
