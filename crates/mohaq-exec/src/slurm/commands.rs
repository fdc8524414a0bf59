//! The Slurm client commands the executor runs, with their output parsed and their failures
//! turned into errors that quote the command.

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::ExecError;

fn run(program: &str, args: &[&str]) -> Result<String, ExecError> {
    let command = format!("{program} {}", args.join(" "));
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| ExecError::Command {
            command: command.clone(),
            message: format!("{e} (is Slurm installed and on PATH?)"),
        })?;
    if !output.status.success() {
        return Err(ExecError::Command {
            command,
            message: format!(
                "{}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Submits `script` as an array of `tasks`; returns the array's job id.
pub fn sbatch_array(script: &Path, tasks: &[usize]) -> Result<String, ExecError> {
    let list = array_spec(tasks);
    let script = script.to_string_lossy();
    let out = run(
        "sbatch",
        &["--parsable", &format!("--array={list}"), &script],
    )?;
    // `--parsable` prints "id" or "id;cluster".
    let id = out.trim().split(';').next().unwrap_or("").to_string();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(ExecError::Command {
            command: format!("sbatch --parsable --array={list} {script}"),
            message: format!("unexpected output {out:?}"),
        });
    }
    Ok(id)
}

/// Ids ("123_4") of this user's queued, running or completing array tasks.
pub fn squeue_active() -> Result<HashSet<String>, ExecError> {
    let out = run("squeue", &["--noheader", "--array", "--me", "--format=%i"])?;
    Ok(out
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

/// "FAILED, exit 3:0" for a finished job, from `scontrol show job` (works without accounting),
/// else `sacct`; "unknown" when neither knows it any more.
pub fn final_state(job: &str) -> String {
    if let Ok(out) = run("scontrol", &["show", "job", job]) {
        let field = |name: &str| {
            out.split_whitespace()
                .find_map(|w| w.strip_prefix(name))
                .map(String::from)
        };
        if let Some(state) = field("JobState=") {
            return match field("ExitCode=") {
                Some(code) => format!("{state}, exit {code}"),
                None => state,
            };
        }
    }
    if let Ok(out) = run(
        "sacct",
        &[
            "--noheader",
            "--parsable2",
            "-X",
            "-j",
            job,
            "--format=State,ExitCode",
        ],
    ) {
        if let Some(line) = out.lines().find(|l| !l.trim().is_empty()) {
            let mut parts = line.split('|');
            let state = parts.next().unwrap_or("?");
            let code = parts.next().unwrap_or("?");
            return format!("{state}, exit {code}");
        }
    }
    "unknown (no longer known to scontrol or sacct)".into()
}

/// Cancels the given jobs (this executor's own, never anyone else's).
pub fn scancel(jobs: &[String]) -> Result<(), ExecError> {
    if jobs.is_empty() {
        return Ok(());
    }
    let args: Vec<&str> = jobs.iter().map(String::as_str).collect();
    run("scancel", &args).map(|_| ())
}

/// `--array` syntax for a sorted task list: runs as ranges ("0-9,12,14-15").
pub fn array_spec(tasks: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < tasks.len() {
        let mut j = i;
        while j + 1 < tasks.len() && tasks[j + 1] == tasks[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            tasks[i].to_string()
        } else {
            format!("{}-{}", tasks[i], tasks[j])
        });
        i = j + 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::array_spec;

    #[test]
    fn array_spec_uses_ranges() {
        assert_eq!(array_spec(&[0, 1, 2, 3, 5, 7, 8]), "0-3,5,7-8");
        assert_eq!(array_spec(&[4]), "4");
        assert_eq!(array_spec(&[]), "");
    }
}
