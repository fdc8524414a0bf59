//! The `[executor]` table of an experiment TOML:
//!
//! ```toml
//! [executor]
//! kind = "slurm"          # or "local" (the default)
//! partition = "gpu"       # each optional; Slurm's defaults otherwise
//! time_limit = "04:00:00"
//! cpus_per_task = 8
//! mem = "16G"
//! extra_sbatch = ["--account=speech", "--qos=normal"]
//! max_resubmits = 2       # a failed or cancelled task is resubmitted this often, then an error
//! shard_size = 256        # candidates per array task of a large evaluation batch
//! poll_seconds = 5
//! ```

use serde::{Deserialize, Serialize};

/// Which executor a run uses.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum ExecutorConfig {
    /// In this process (rayon).
    #[default]
    Local,
    /// A Slurm cluster sharing the run directory's filesystem.
    Slurm(SlurmConfig),
}

/// Settings of the Slurm executor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlurmConfig {
    #[serde(default)]
    pub partition: Option<String>,
    /// `--time`, e.g. "04:00:00".
    #[serde(default)]
    pub time_limit: Option<String>,
    #[serde(default)]
    pub cpus_per_task: Option<u32>,
    /// `--mem`, e.g. "16G".
    #[serde(default)]
    pub mem: Option<String>,
    /// Further `#SBATCH` options, one per entry ("--account=speech").
    #[serde(default)]
    pub extra_sbatch: Vec<String>,
    #[serde(default = "default_max_resubmits")]
    pub max_resubmits: u32,
    #[serde(default = "default_shard_size")]
    pub shard_size: usize,
    #[serde(default = "default_poll_seconds")]
    pub poll_seconds: f64,
}

fn default_max_resubmits() -> u32 {
    2
}

fn default_shard_size() -> usize {
    256
}

fn default_poll_seconds() -> f64 {
    5.0
}

impl Default for SlurmConfig {
    fn default() -> Self {
        Self {
            partition: None,
            time_limit: None,
            cpus_per_task: None,
            mem: None,
            extra_sbatch: Vec::new(),
            max_resubmits: default_max_resubmits(),
            shard_size: default_shard_size(),
            poll_seconds: default_poll_seconds(),
        }
    }
}

impl SlurmConfig {
    /// Rejects settings that would make a broken script or an endless loop.
    pub fn validate(&self) -> Result<(), String> {
        if self.shard_size == 0 {
            return Err("executor.shard_size must be at least 1".into());
        }
        if !(self.poll_seconds.is_finite() && self.poll_seconds > 0.0) {
            return Err(format!(
                "executor.poll_seconds must be positive, not {}",
                self.poll_seconds
            ));
        }
        for line in &self.extra_sbatch {
            if line.contains('\n') || !line.trim_start().starts_with('-') {
                return Err(format!(
                    "executor.extra_sbatch entry `{line}` must be one sbatch option such as `--account=x`"
                ));
            }
        }
        for (name, value) in [
            ("partition", &self.partition),
            ("time_limit", &self.time_limit),
            ("mem", &self.mem),
        ] {
            if value
                .as_deref()
                .is_some_and(|v| v.is_empty() || v.contains(char::is_whitespace))
            {
                return Err(format!("executor.{name} must be one word, not {value:?}"));
            }
        }
        Ok(())
    }
}

/// Executor settings given on a command line; they override the experiment's `[executor]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecutorOverrides {
    /// "local" or "slurm".
    pub kind: Option<String>,
    pub partition: Option<String>,
    pub time_limit: Option<String>,
    pub cpus_per_task: Option<u32>,
    pub mem: Option<String>,
    pub extra_sbatch: Vec<String>,
}

impl ExecutorOverrides {
    fn has_slurm_settings(&self) -> bool {
        self.partition.is_some()
            || self.time_limit.is_some()
            || self.cpus_per_task.is_some()
            || self.mem.is_some()
            || !self.extra_sbatch.is_empty()
    }
}

impl ExecutorConfig {
    /// This configuration with `o` applied; Slurm settings for a local executor are an error.
    pub fn with_overrides(self, o: &ExecutorOverrides) -> Result<Self, String> {
        let base = match o.kind.as_deref() {
            None => self,
            Some("local") => ExecutorConfig::Local,
            Some("slurm") => match self {
                ExecutorConfig::Slurm(s) => ExecutorConfig::Slurm(s),
                ExecutorConfig::Local => ExecutorConfig::Slurm(SlurmConfig::default()),
            },
            Some(other) => {
                return Err(format!(
                    "unknown executor `{other}`; use `local` or `slurm`"
                ))
            }
        };
        match base {
            ExecutorConfig::Local if o.has_slurm_settings() => Err(
                "Slurm settings (partition, time limit, CPUs, memory, sbatch lines) need the Slurm executor (`--executor slurm` or `[executor] kind = \"slurm\"`)".into(),
            ),
            ExecutorConfig::Local => Ok(ExecutorConfig::Local),
            ExecutorConfig::Slurm(mut s) => {
                if o.partition.is_some() {
                    s.partition = o.partition.clone();
                }
                if o.time_limit.is_some() {
                    s.time_limit = o.time_limit.clone();
                }
                if o.cpus_per_task.is_some() {
                    s.cpus_per_task = o.cpus_per_task;
                }
                if o.mem.is_some() {
                    s.mem = o.mem.clone();
                }
                s.extra_sbatch.extend(o.extra_sbatch.iter().cloned());
                s.validate()?;
                Ok(ExecutorConfig::Slurm(s))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct File {
        executor: ExecutorConfig,
    }

    #[test]
    fn parses_the_documented_table_and_rejects_typos() {
        let text = r#"
[executor]
kind = "slurm"
partition = "gpu"
time_limit = "04:00:00"
cpus_per_task = 8
mem = "16G"
extra_sbatch = ["--account=speech"]
"#;
        let file: File = toml_like(text);
        let ExecutorConfig::Slurm(s) = file.executor else {
            panic!("not slurm")
        };
        assert_eq!(s.partition.as_deref(), Some("gpu"));
        assert_eq!(s.cpus_per_task, Some(8));
        assert_eq!(s.max_resubmits, 2);
        s.validate().unwrap();
        let bad = SlurmConfig {
            extra_sbatch: vec!["account=x".into()],
            ..SlurmConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("account=x"));
    }

    #[test]
    fn command_line_overrides_the_table() {
        let slurm = ExecutorConfig::Slurm(SlurmConfig {
            partition: Some("cpu".into()),
            ..SlurmConfig::default()
        });
        let o = ExecutorOverrides {
            partition: Some("gpu".into()),
            extra_sbatch: vec!["--qos=high".into()],
            ..ExecutorOverrides::default()
        };
        let ExecutorConfig::Slurm(s) = slurm.clone().with_overrides(&o).unwrap() else {
            panic!()
        };
        assert_eq!(s.partition.as_deref(), Some("gpu"));
        assert_eq!(s.extra_sbatch, vec!["--qos=high".to_string()]);
        let err = ExecutorConfig::Local.with_overrides(&o).unwrap_err();
        assert!(err.contains("--executor slurm"), "{err}");
        let to_slurm = ExecutorOverrides {
            kind: Some("slurm".into()),
            ..o.clone()
        };
        assert!(matches!(
            ExecutorConfig::Local.with_overrides(&to_slurm).unwrap(),
            ExecutorConfig::Slurm(_)
        ));
        let local = ExecutorOverrides {
            kind: Some("local".into()),
            ..ExecutorOverrides::default()
        };
        assert_eq!(slurm.with_overrides(&local).unwrap(), ExecutorConfig::Local);
        let bad = ExecutorOverrides {
            kind: Some("pbs".into()),
            ..ExecutorOverrides::default()
        };
        assert!(ExecutorConfig::Local
            .with_overrides(&bad)
            .unwrap_err()
            .contains("pbs"));
    }

    /// The JSON equivalent of the TOML above (this crate has no TOML parser; mohaq-beacon's
    /// experiment tests parse the TOML itself).
    fn toml_like(text: &str) -> File {
        let mut map = serde_json::Map::new();
        for line in text.lines().map(str::trim) {
            if let Some((k, v)) = line.split_once(" = ") {
                let value: serde_json::Value = serde_json::from_str(v).unwrap();
                map.insert(k.to_string(), value);
            }
        }
        serde_json::from_value(serde_json::json!({ "executor": map })).unwrap()
    }
}
