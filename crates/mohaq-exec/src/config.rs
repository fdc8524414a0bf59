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
