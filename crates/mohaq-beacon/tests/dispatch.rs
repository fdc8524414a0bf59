//! The executor seam without a cluster: an in-process executor that shards like a remote one
//! gives the same search as no executor at all, and the `[executor]` table parses.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use mohaq_beacon::dispatch::{Dispatch, BEACON_RETRAIN, PTQ_SHARD};
use mohaq_beacon::run::{run_search, RunOptions};
use mohaq_beacon::synthetic::SyntheticModel;
use mohaq_beacon::Experiment;
use mohaq_evo::Silent;
use mohaq_exec::{ExecError, Executor, ExecutorConfig, JobBatch, JobHandler, LocalExecutor};
use mohaq_hw::Platform;
use serde_json::Value;

/// Shards like a remote executor, runs the jobs here, and records every batch.
struct ShardingHere {
    shard: usize,
    batches: Mutex<Vec<(String, usize)>>,
}

impl Executor for ShardingHere {
    fn describe(&self) -> String {
        "in-process, sharded".into()
    }

    fn shard_size(&self) -> Option<usize> {
        Some(self.shard)
    }

    fn run_batch(&self, batch: &JobBatch, local: &dyn JobHandler) -> Result<Vec<Value>, ExecError> {
        self.batches
            .lock()
            .unwrap()
            .push((batch.label.clone(), batch.inputs.len()));
        // Through text, as results travel from a worker.
        let results = LocalExecutor.run_batch(batch, local)?;
        Ok(results
            .iter()
            .map(|v| serde_json::from_str(&v.to_string()).unwrap())
            .collect())
    }
}

fn platform_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../platforms/bitfusion.toml")
}

const EXPERIMENT: &str = r#"
name = "bitfusion-beacon"
kind = "bitfusion"
platform = "unused.toml"
[model]
config = "m.toml"
weights = "m.safetensors"
[search]
pop_size = 12
n_offsprings = 4
n_gen = 8
# The engine's checkpoint holds the population and generator the comparison checks.
strategy = "paper"
[constraints]
max_error = { relative = 1.5 }
[beacons]
mode = "dynamic"
distance_threshold = 5
band = [{ absolute = 19.0 }, { absolute = 40.0 }]
min_speedup = 4.0
epochs = 2
max_beacons = 3
"#;

fn checkpoint_state(run_dir: &Path) -> Value {
    let text = std::fs::read_to_string(run_dir.join("checkpoint.json")).unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["state"].clone()
}

#[test]
fn a_sharding_executor_gives_the_same_search_as_none() {
    let exp = Experiment::from_toml_str(EXPERIMENT, Path::new("t.toml")).unwrap();
    let bf = Platform::from_toml_file(platform_path()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let executor = Arc::new(ShardingHere {
        shard: 3,
        batches: Mutex::new(Vec::new()),
    });
    let run = |name: &str, dispatch: Option<Dispatch>| {
        let model = SyntheticModel::new();
        let options = RunOptions {
            store_dir: Some(dir.path().join(name).join("store")),
            dispatch,
            ..RunOptions::default()
        };
        let run_dir = dir.path().join(name).join("run");
        let front = run_search(
            &exp,
            &model,
            Some(&model),
            Some(&bf),
            &run_dir,
            &options,
            &mut Silent,
        )
        .unwrap();
        (front, checkpoint_state(&run_dir))
    };
    let (plain, plain_state) = run("plain", None);
    let dispatch = Dispatch {
        executor: executor.clone(),
        model: Value::Null,
    };
    let (sharded, sharded_state) = run("sharded", Some(dispatch));
    assert!(!plain.beacons.is_empty());
    assert_eq!(sharded.solutions, plain.solutions);
    assert_eq!(sharded_state, plain_state);
    let bits = |f: &mohaq_beacon::FrontFile| -> Vec<_> {
        f.beacons
            .iter()
            .map(|b| (b.key.clone(), b.reused_from_store))
            .collect()
    };
    assert_eq!(bits(&sharded), bits(&plain));
    let batches = executor.batches.lock().unwrap();
    // The initial population of 12 in shards of 3, then offspring batches of 4 in 2 shards.
    assert!(batches.contains(&(PTQ_SHARD.to_string(), 4)), "{batches:?}");
    assert!(batches.contains(&(PTQ_SHARD.to_string(), 2)), "{batches:?}");
    let retrained = batches.iter().filter(|(l, _)| l == BEACON_RETRAIN).count();
    assert_eq!(retrained, plain.beacons.len());
}

#[test]
fn the_executor_table_parses_and_bad_settings_name_the_key() {
    let with = |table: &str| {
        Experiment::from_toml_str(
            &format!("{EXPERIMENT}\n[executor]\n{table}"),
            Path::new("e.toml"),
        )
    };
    let e = with("kind = \"slurm\"\npartition = \"gpu\"\ncpus_per_task = 8\nextra_sbatch = [\"--account=x\"]").unwrap();
    let Some(ExecutorConfig::Slurm(s)) = e.executor else {
        panic!("not slurm: {:?}", e.executor)
    };
    assert_eq!(s.partition.as_deref(), Some("gpu"));
    assert_eq!(s.cpus_per_task, Some(8));
    assert_eq!(
        with("kind = \"local\"").unwrap().executor,
        Some(ExecutorConfig::Local)
    );
    let err = with("kind = \"slurm\"\nshard_size = 0")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("e.toml") && err.contains("shard_size"),
        "{err}"
    );
    let err = with("kind = \"slurm\"\npartiton = \"gpu\"")
        .unwrap_err()
        .to_string();
    assert!(err.contains("partiton"), "{err}");
}
