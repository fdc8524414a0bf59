//! The Slurm executor against a real Slurm, with shell workers (the `mohaq worker` tests are in
//! mohaq-cli). Skipped with a message when no Slurm is reachable, unless `MOHAQ_SLURM=1`.

use mohaq_exec::slurm::testing::use_slurm;
use mohaq_exec::slurm::Ledger;
use mohaq_exec::{ExecError, Executor, JobBatch, JobHandler, SlurmConfig, SlurmExecutor};
use serde_json::{json, Value};

/// Never called: remote executors rebuild the handler in the worker.
struct Unused;
impl JobHandler for Unused {
    fn run(&self, _: &Value) -> Result<Value, String> {
        unreachable!("the Slurm executor does not run jobs in-process")
    }
}

fn config() -> SlurmConfig {
    SlurmConfig {
        poll_seconds: 0.2,
        max_resubmits: 1,
        ..SlurmConfig::default()
    }
}

fn sh_worker(script: &str) -> Vec<String> {
    vec![
        "/bin/sh".into(),
        "-c".into(),
        script.into(),
        "worker".into(),
    ]
}

/// Copies the input to the result (atomically, as the real worker does) and doubles nothing:
/// the result is the input, so the order of results can be checked.
const ECHO: &str = r#"cp "$1/input/$2.json" "$1/result/$2.json.tmp" && mv "$1/result/$2.json.tmp" "$1/result/$2.json""#;

#[test]
fn a_job_array_returns_results_in_job_order_and_is_not_resubmitted_when_done() {
    if !use_slurm("a_job_array_returns_results_in_job_order") {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let exec = SlurmExecutor::new(config(), root.path(), sh_worker(ECHO)).unwrap();
    let inputs: Vec<Value> = (0..6)
        .map(|i| json!({"i": i, "x": 0.1 * i as f64}))
        .collect();
    let batch = JobBatch::new("echo", json!({"what": "test"}), inputs.clone());
    let results = exec.run_batch(&batch, &Unused).unwrap();
    assert_eq!(results, inputs);
    let dir = root.path().join(batch.name());
    let ledger = Ledger::load(&dir).unwrap();
    assert_eq!(ledger.submissions.len(), 1, "{ledger:?}");
    // Asking again submits nothing.
    assert_eq!(exec.run_batch(&batch, &Unused).unwrap(), inputs);
    assert_eq!(Ledger::load(&dir).unwrap(), ledger);
}

#[test]
fn a_job_failing_every_time_ends_with_an_error_naming_its_log() {
    if !use_slurm("a_job_failing_every_time_ends_with_an_error_naming_its_log") {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let script = format!(r#"if [ "$2" = 1 ]; then echo "boom in task $2" >&2; exit 3; fi; {ECHO}"#);
    let exec = SlurmExecutor::new(config(), root.path(), sh_worker(&script)).unwrap();
    let batch = JobBatch::new("failing", json!(null), vec![json!(0), json!(1), json!(2)]);
    let err = exec.run_batch(&batch, &Unused).unwrap_err();
    let message = err.to_string();
    let ExecError::JobFailed {
        index,
        log,
        attempts,
        job,
        ..
    } = err
    else {
        panic!("expected a failed job, got {message}");
    };
    assert_eq!(index, 1);
    assert_eq!(
        attempts, 2,
        "one submission and max_resubmits = 1 resubmission"
    );
    assert!(
        message.contains(job.as_str()) && message.contains(&log.display().to_string()),
        "{message}"
    );
    assert!(message.contains("FAILED"), "{message}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("boom in task 1"), "{text}");
    let ledger = Ledger::load(&root.path().join(batch.name())).unwrap();
    assert_eq!(ledger.submissions_of(1), 2);
    assert_eq!(ledger.submissions_of(0), 1);
}
