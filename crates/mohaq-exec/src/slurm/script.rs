//! The sbatch script of a batch: the resource settings, one log per task and attempt, and the
//! worker command with the batch folder and `$SLURM_ARRAY_TASK_ID`.

use std::path::Path;

use crate::batch::BatchDir;
use crate::config::SlurmConfig;

/// Single-quotes `s` for sh.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The script text. `worker` is the program and its leading arguments; the batch folder and
/// the task index are appended.
pub fn sbatch_script(
    config: &SlurmConfig,
    batch: &BatchDir,
    job_name: &str,
    workdir: &Path,
    worker: &[String],
) -> String {
    let mut s = String::from("#!/bin/sh\n");
    let mut opt = |line: String| {
        s.push_str("#SBATCH ");
        s.push_str(&line);
        s.push('\n');
    };
    opt(format!("--job-name={job_name}"));
    opt(format!(
        "--output={}",
        batch.logs_dir().join("task-%a.%A.log").display()
    ));
    opt(format!("--chdir={}", workdir.display()));
    if let Some(p) = &config.partition {
        opt(format!("--partition={p}"));
    }
    if let Some(t) = &config.time_limit {
        opt(format!("--time={t}"));
    }
    if let Some(c) = config.cpus_per_task {
        opt(format!("--cpus-per-task={c}"));
    }
    if let Some(m) = &config.mem {
        opt(format!("--mem={m}"));
    }
    for line in &config.extra_sbatch {
        opt(line.trim().to_string());
    }
    s.push_str("# A task uses the CPUs it was given.\n");
    s.push_str("[ -n \"${SLURM_CPUS_PER_TASK:-}\" ] && export RAYON_NUM_THREADS=\"$SLURM_CPUS_PER_TASK\"\n");
    s.push_str("exec");
    for word in worker {
        s.push(' ');
        s.push_str(&quote(word));
    }
    s.push(' ');
    s.push_str(&quote(&batch.path().to_string_lossy()));
    s.push_str(" \"$SLURM_ARRAY_TASK_ID\"\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_carries_every_setting_and_quotes_the_command() {
        let config = SlurmConfig {
            partition: Some("gpu".into()),
            time_limit: Some("01:00:00".into()),
            cpus_per_task: Some(4),
            mem: Some("8G".into()),
            extra_sbatch: vec!["--account=speech".into()],
            ..SlurmConfig::default()
        };
        let batch = BatchDir::open("/runs/a b/exec/x-1");
        let s = sbatch_script(
            &config,
            &batch,
            "mohaq-x",
            Path::new("/work"),
            &["/bin/mohaq".into(), "worker".into(), "it's".into()],
        );
        for want in [
            "#SBATCH --partition=gpu\n",
            "#SBATCH --time=01:00:00\n",
            "#SBATCH --cpus-per-task=4\n",
            "#SBATCH --mem=8G\n",
            "#SBATCH --account=speech\n",
            "#SBATCH --chdir=/work\n",
            "#SBATCH --output=/runs/a b/exec/x-1/logs/task-%a.%A.log\n",
            "exec '/bin/mohaq' 'worker' 'it'\\''s' '/runs/a b/exec/x-1' \"$SLURM_ARRAY_TASK_ID\"\n",
        ] {
            assert!(s.contains(want), "missing {want:?} in\n{s}");
        }
    }
}
