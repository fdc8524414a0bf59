//! The Slurm executor with the real `mohaq worker` on a real Slurm (`.ci/run` starts a one-node
//! cluster): the same archive and front as the local executor, bit for bit; a scancelled shard
//! is resubmitted; a killed coordinator's rerun adopts its jobs; Ctrl-C cancels this run's jobs.
//! Each test prints a skip message and passes when no Slurm is reachable, unless MOHAQ_SLURM=1.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mohaq_app::worker::WorkerModel;
use mohaq_beacon::dispatch::Dispatch;
use mohaq_beacon::limits::ResolvedLimits;
use mohaq_beacon::problem::MohaqProblem;
use mohaq_beacon::run::{run_search, FrontFile, RunOptions};
use mohaq_beacon::synthetic::SyntheticModel;
use mohaq_beacon::Experiment;
use mohaq_evo::{enumerate_space, exhaustive_front, EvaluationArchive, Genes, Problem, Silent};
use mohaq_exec::slurm::testing::use_slurm;
use mohaq_exec::slurm::{scancel, squeue_active, Ledger};
use mohaq_exec::{SlurmConfig, SlurmExecutor};
use mohaq_hw::Platform;

fn platform_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../platforms")
        .join(name)
        .canonicalize()
        .unwrap()
}

fn experiment(text: &str) -> Experiment {
    Experiment::from_toml_str(text, Path::new("test.toml")).unwrap()
}

/// The beacon search of mohaq-beacon's tests, on an absolute platform path the workers load.
fn bitfusion_beacon() -> Experiment {
    experiment(&format!(
        r#"
name = "bitfusion-beacon"
kind = "bitfusion"
platform = "{}"
[model]
config = "m.toml"
weights = "m.safetensors"
[search]
pop_size = 12
n_offsprings = 4
n_gen = 6
strategy = "paper"
[constraints]
max_error = {{ relative = 1.5 }}
[beacons]
mode = "dynamic"
distance_threshold = 5
band = [{{ absolute = 19.0 }}, {{ absolute = 40.0 }}]
min_speedup = 4.0
epochs = 2
max_beacons = 3
"#,
        platform_path("bitfusion.toml").display()
    ))
}

fn silago() -> Experiment {
    experiment(&format!(
        r#"
name = "silago"
kind = "silago"
platform = "{}"
[model]
config = "m.toml"
weights = "m.safetensors"
[search]
pop_size = 12
n_offsprings = 4
n_gen = 4
[constraints]
max_error = {{ absolute = 24.0 }}
max_size_mb = {{ absolute = 6.0 }}
"#,
        platform_path("silago.toml").display()
    ))
}

fn slurm(root: &Path, shard_size: usize, delay_ms: u64) -> Dispatch {
    let config = SlurmConfig {
        shard_size,
        poll_seconds: 0.2,
        max_resubmits: 2,
        ..SlurmConfig::default()
    };
    let worker = vec![env!("CARGO_BIN_EXE_mohaq").to_string(), "worker".into()];
    Dispatch {
        executor: Arc::new(SlurmExecutor::new(config, root, worker).unwrap()),
        model: WorkerModel::Synthetic { delay_ms }.to_value(),
    }
}

fn checkpoint_state(run_dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(run_dir.join("checkpoint.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["state"].clone()
}

/// Every batch folder under an executor root with its ledger.
fn ledgers(root: &Path) -> Vec<(String, Ledger)> {
    let mut out: Vec<(String, Ledger)> = std::fs::read_dir(root)
        .map(|d| {
            d.flatten()
                .map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    (name, Ledger::load(&e.path()).unwrap())
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn search_with_beacons_through_slurm_matches_local_bit_for_bit() {
    if !use_slurm("search_with_beacons_through_slurm_matches_local_bit_for_bit") {
        return;
    }
    let exp = bitfusion_beacon();
    let bf = Platform::from_toml_file(platform_path("bitfusion.toml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, dispatch: Option<Dispatch>, model: &SyntheticModel| -> FrontFile {
        let options = RunOptions {
            skip_test: false,
            store_dir: Some(dir.path().join(name).join("store")),
            dispatch,
            max_evaluations: None,
        };
        let run_dir = dir.path().join(name).join("run");
        run_search(
            &exp,
            model,
            Some(model),
            Some(&bf),
            &run_dir,
            &options,
            &mut Silent,
        )
        .unwrap()
    };
    let local_model = SyntheticModel::new();
    let local = run("local", None, &local_model);
    let exec_root = dir.path().join("slurm").join("exec");
    let slurm_model = SyntheticModel::new();
    let start = Instant::now();
    let remote = run("slurm", Some(slurm(&exec_root, 4, 0)), &slurm_model);
    eprintln!(
        "beacon search through Slurm: {:.1} s",
        start.elapsed().as_secs_f64()
    );

    assert!(!local.beacons.is_empty(), "the search must create beacons");
    assert_eq!(remote.solutions, local.solutions);
    assert_eq!(remote.n_evaluations, local.n_evaluations);
    let key = |f: &FrontFile| -> Vec<_> {
        f.beacons
            .iter()
            .map(|b| {
                (
                    b.index,
                    b.key.clone(),
                    b.bits,
                    b.creator.clone(),
                    b.reused_from_store,
                )
            })
            .collect()
    };
    assert_eq!(key(&remote), key(&local));
    assert_eq!(
        checkpoint_state(&dir.path().join("slurm/run")),
        checkpoint_state(&dir.path().join("local/run"))
    );
    // The work really went to Slurm: PTQ shards and one retraining job per beacon ran there,
    // none of the retraining in this process.
    let batches = ledgers(&exec_root);
    let shards = batches
        .iter()
        .filter(|(n, _)| n.starts_with("ptq-shard-"))
        .count();
    let beacons: usize = batches
        .iter()
        .filter(|(n, _)| n.starts_with("beacon-"))
        .map(|(_, l)| l.submissions.iter().map(|s| s.tasks.len()).sum::<usize>())
        .sum();
    assert!(shards >= 6, "{shards} shard batches");
    assert_eq!(beacons, local.beacons.len());
    assert_eq!(slurm_model.retrainings(), 0);
    assert_eq!(local_model.retrainings(), local.beacons.len());
}

#[test]
fn exhaustive_front_through_slurm_matches_local_bit_for_bit() {
    if !use_slurm("exhaustive_front_through_slurm_matches_local_bit_for_bit") {
        return;
    }
    let exp = silago();
    let platform = Platform::from_toml_file(platform_path("silago.toml")).unwrap();
    let model = SyntheticModel::new();
    let limits = ResolvedLimits::resolve(&exp, 18.0, 21.2, Some(&platform));
    let dir = tempfile::tempdir().unwrap();
    let local = MohaqProblem::new(&exp, &model, Some(&platform), limits.clone()).unwrap();
    let remote = MohaqProblem::new(&exp, &model, Some(&platform), limits)
        .unwrap()
        .with_dispatch(slurm(dir.path(), 700, 0), &exp)
        .unwrap();
    let total = enumerate_space(local.space(), 10_000).unwrap().len();
    let front = |p: &MohaqProblem<'_, SyntheticModel>| {
        let mut archive = EvaluationArchive::new();
        let start = Instant::now();
        let front = exhaustive_front(p, &mut archive, 10_000, total, |_, _, _| {}).unwrap();
        (front, archive, start.elapsed().as_secs_f64())
    };
    let (local_front, local_archive, local_s) = front(&local);
    let (remote_front, remote_archive, remote_s) = front(&remote);
    eprintln!(
        "exhaustive front of {total} candidates (synthetic model): local {local_s:.2} s, Slurm {remote_s:.2} s"
    );
    assert_eq!(total, 6561);
    assert!(!local_front.is_empty());
    assert_eq!(remote_front, local_front);
    assert_eq!(remote_archive, local_archive);
    let batches = ledgers(dir.path());
    assert_eq!(batches.len(), 1);
    assert_eq!(
        batches[0].1.submissions[0].tasks.len(),
        10,
        "6,561 in shards of 700"
    );
}

/// 24 SiLago candidates in 6 shards of 4, each evaluation taking `delay_ms`.
fn slow_batch() -> Vec<Genes> {
    let exp = silago();
    let platform = Platform::from_toml_file(platform_path("silago.toml")).unwrap();
    let model = SyntheticModel::new();
    let limits = ResolvedLimits::resolve(&exp, 18.0, 21.2, Some(&platform));
    let problem = MohaqProblem::new(&exp, &model, Some(&platform), limits).unwrap();
    let all = enumerate_space(problem.space(), 10_000).unwrap();
    all.into_iter().step_by(271).take(24).collect()
}

const SLOW_MS: u64 = 700;

/// Evaluates [`slow_batch`] locally (`root` = None) or through Slurm into `root`.
fn evaluate_slow(root: Option<&Path>) -> Vec<Result<mohaq_evo::Evaluation, String>> {
    let exp = silago();
    let platform = Platform::from_toml_file(platform_path("silago.toml")).unwrap();
    let model = SyntheticModel::new();
    let limits = ResolvedLimits::resolve(&exp, 18.0, 21.2, Some(&platform));
    let mut problem = MohaqProblem::new(&exp, &model, Some(&platform), limits).unwrap();
    if let Some(root) = root {
        problem = problem
            .with_dispatch(slurm(root, 4, SLOW_MS), &exp)
            .unwrap();
    }
    problem
        .evaluate_batch(&slow_batch())
        .into_iter()
        .map(|r| r.map_err(|e| e.to_string()))
        .collect()
}

fn only_batch(root: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(dirs.len() <= 1, "{dirs:?}");
    dirs.into_iter().next().unwrap_or_else(|| root.join("none"))
}

fn results_written(batch: &Path) -> usize {
    std::fs::read_dir(batch.join("result"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .count()
        })
        .unwrap_or(0)
}

/// Waits until `ready` holds, failing after a minute.
fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(Instant::now() < end, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_scancelled_shard_is_resubmitted_and_nothing_is_lost() {
    if !use_slurm("a_scancelled_shard_is_resubmitted_and_nothing_is_lost") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let worker = std::thread::spawn(move || evaluate_slow(Some(&root)));
    // Cancel the first task while it runs.
    let mut victim = None;
    wait_until("a task runs", || {
        let batch = only_batch(dir.path());
        let ledger = Ledger::load(&batch).unwrap();
        let Some(first) = ledger.submissions.first() else {
            return false;
        };
        let id = format!("{}_{}", first.job, first.tasks[0]);
        let running = Command::new("squeue")
            .args(["--noheader", "--array", "--states=RUNNING", "--format=%i"])
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .any(|l| l.trim() == id)
            })
            .unwrap_or(false);
        if running {
            victim = Some((id, first.tasks[0]));
        }
        running
    });
    let (id, task) = victim.unwrap();
    scancel(std::slice::from_ref(&id)).unwrap();
    let remote = worker.join().unwrap();
    assert_eq!(remote, evaluate_slow(None));
    assert!(remote.iter().all(|r| r.is_ok()));
    let ledger = Ledger::load(&only_batch(dir.path())).unwrap();
    assert_eq!(
        ledger.submissions_of(task),
        2,
        "{id} cancelled once: {ledger:?}"
    );
    for t in (0..6).filter(|&t| t != task) {
        assert_eq!(ledger.submissions_of(t), 1, "task {t}: {ledger:?}");
    }
}

/// Not a test on its own: the coordinator the next two tests start as a child process and kill.
#[test]
fn coordinator_child() {
    let Ok(root) = std::env::var("MOHAQ_TEST_COORDINATOR_ROOT") else {
        return;
    };
    let results = evaluate_slow(Some(Path::new(&root)));
    if let Some(Err(e)) = results.into_iter().find(|r| r.is_err()) {
        eprintln!("coordinator failed: {e}");
        std::process::exit(3);
    }
}

fn spawn_coordinator(root: &Path) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "coordinator_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("MOHAQ_TEST_COORDINATOR_ROOT", root)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_killed_coordinator_rerun_adopts_its_jobs_and_resubmits_nothing() {
    if !use_slurm("a_killed_coordinator_rerun_adopts_its_jobs_and_resubmits_nothing") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn_coordinator(dir.path());
    wait_until("the first shard finishes", || {
        results_written(&only_batch(dir.path())) >= 1
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let batch = only_batch(dir.path());
    let done_before = results_written(&batch);
    assert!(done_before < 6, "killed too late: every shard had finished");
    let remote = evaluate_slow(Some(dir.path()));
    assert_eq!(remote, evaluate_slow(None));
    let ledger = Ledger::load(&batch).unwrap();
    assert_eq!(
        ledger.submissions.len(),
        1,
        "the rerun submitted again: {ledger:?}"
    );
    for t in 0..6 {
        assert_eq!(ledger.submissions_of(t), 1, "task {t}: {ledger:?}");
    }
}

#[test]
fn ctrl_c_cancels_this_runs_jobs() {
    if !use_slurm("ctrl_c_cancels_this_runs_jobs") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let child = spawn_coordinator(dir.path());
    wait_until("jobs are submitted", || {
        Ledger::load(&only_batch(dir.path()))
            .map(|l| !l.submissions.is_empty())
            .unwrap_or(false)
    });
    let ledger = Ledger::load(&only_batch(dir.path())).unwrap();
    let job = ledger.submissions[0].job.clone();
    // SAFETY: sends SIGINT to our own child.
    assert_eq!(unsafe { libc_kill(child.id() as i32, 2) }, 0);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let prefix = format!("{job}_");
    wait_until("the cancelled jobs leave the queue", || {
        !squeue_active()
            .unwrap()
            .iter()
            .any(|id| id.starts_with(&prefix))
    });
    assert!(results_written(&only_batch(dir.path())) < 6);
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

/// An inference-only compression search on the shipped LSTM (`models/lstm-mohaq`, 10 genes from
/// its layer table), run by the `mohaq` binary on the real corpus, once here and once with its
/// PTQ shards on Slurm: the workers rebuild the LSTM from the experiment, and the front is the
/// same to the last bit.
#[test]
fn an_lstm_search_through_slurm_matches_local_bit_for_bit() {
    if !use_slurm("an_lstm_search_through_slurm_matches_local_bit_for_bit") {
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap();
    let data = std::env::var_os("MOHAQ_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/data"));
    let dir = tempfile::tempdir().unwrap();
    let write_experiment = |name: &str, executor: &str| -> PathBuf {
        let path = dir.path().join(format!("{name}.toml"));
        let text = format!(
            r#"
name = "lstm-compression"
kind = "compression"
seed = 3
[model]
config = "{model}.toml"
weights = "{model}.safetensors"
[data]
dev_utterances = 6
test_utterances = 4
[search]
pop_size = 8
n_offsprings = 4
n_gen = 3
strategy = "paper"
[constraints]
max_error = {{ relative = 1.446 }}
{executor}
"#,
            model = root.join("models/lstm-mohaq").display(),
        );
        std::fs::write(&path, text).unwrap();
        path
    };
    let search = |experiment: &Path, out: &Path| -> FrontFile {
        let output = Command::new(env!("CARGO_BIN_EXE_mohaq"))
            .arg("search")
            .arg("--experiment")
            .arg(experiment)
            .arg("--out")
            .arg(out)
            .arg("--data")
            .arg(&data)
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "mohaq search {}: {}",
            experiment.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        FrontFile::load(out).unwrap()
    };
    let local = search(&write_experiment("local", ""), &dir.path().join("local"));
    let exec_root = dir.path().join("remote/exec");
    let slurm_table = "[executor]\nkind = \"slurm\"\nshard_size = 4\npoll_seconds = 0.2\n";
    let remote = search(
        &write_experiment("remote", slurm_table),
        &dir.path().join("remote"),
    );
    assert!(!local.solutions.is_empty());
    assert_eq!(
        local.solutions[0].score.bits.weight.len(),
        5,
        "the LSTM's matrix layers: W_ih and W_hh of two layers and the FC"
    );
    assert_eq!(remote.solutions, local.solutions);
    assert_eq!(remote.n_evaluations, local.n_evaluations);
    let shards = ledgers(&exec_root)
        .into_iter()
        .filter(|(n, _)| n.starts_with("ptq-shard-"))
        .count();
    assert!(shards >= 1, "no PTQ shard went to Slurm");
}
