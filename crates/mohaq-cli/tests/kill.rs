//! kill -9 during `mohaq export` and `mohaq features`: the release binary is SIGKILLed at
//! several delays spread over its run, and each output is then either absent or complete (it
//! loads, and holds what an uninterrupted run writes), never a part. A temporary a killed write
//! leaves behind is removed by the next successful write. (The atomic write itself is
//! kill-tested in mohaq-fsio's `tests/kill.rs`; this is about the commands built on it.)

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mohaq_sru::data::audio::encode_wav;

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn mohaq(args: &[&str], cache: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mohaq"));
    command
        .current_dir(workspace_root())
        .env("MOHAQ_LOG", "warn")
        .env("MOHAQ_CACHE", cache)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// Runs to the end; returns how long it took and what it wrote on stderr.
fn run_ok_with_stderr(args: &[&str], cache: &Path) -> (Duration, String) {
    let start = Instant::now();
    let output = mohaq(args, cache).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "mohaq {}:\n{stderr}",
        args.join(" ")
    );
    (start.elapsed(), stderr)
}

fn run_ok(args: &[&str], cache: &Path) -> Duration {
    run_ok_with_stderr(args, cache).0
}

/// Starts the command and SIGKILLs it after `delay` (if it is still running); whether the
/// kill landed before the command ended.
fn run_killed(args: &[&str], cache: &Path, delay: Duration) -> bool {
    let mut child = mohaq(args, cache).stderr(Stdio::null()).spawn().unwrap();
    std::thread::sleep(delay);
    let ended = child.try_wait().unwrap().is_some();
    let _ = child.kill(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    !ended && !status.success()
}

/// Kill rounds per command.
const ROUNDS: usize = 10;

/// Kill delays that home in on the moment the output appears: each delay bisects the latest
/// one whose kill left no output and the earliest one that left it, so the kills cluster
/// around the write (timing noise spreads them over it) after a first one half-way through.
struct Bisection {
    lo: Duration,
    hi: Duration,
}

impl Bisection {
    fn new(full_run: Duration) -> Self {
        Self {
            lo: Duration::ZERO,
            hi: full_run.mul_f64(1.2),
        }
    }

    fn next(&self) -> Duration {
        (self.lo + self.hi) / 2
    }

    fn record(&mut self, delay: Duration, output_present: bool) {
        if output_present {
            self.hi = delay;
        } else {
            self.lo = delay;
        }
    }
}

fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

/// A temporary as a write killed mid-way leaves it (pid 4194303 is above Linux's largest pid,
/// so it never runs).
fn plant_stale_temp(target: &Path) -> PathBuf {
    let name = target.file_name().unwrap().to_string_lossy();
    let stale = target.with_file_name(format!(".{name}.4194303.0.tmp"));
    std::fs::write(&stale, b"part of a file").unwrap();
    stale
}

fn speechlike(n: usize) -> Vec<i16> {
    (0..n)
        .map(|i| {
            let t = i as f64 / 16000.0;
            let env = (0.5 + 0.5 * (6.0 * t).sin()).max(0.1);
            (6000.0 * env * (2.0 * std::f64::consts::PI * (200.0 + 300.0 * (t % 3.0)) * t).sin())
                as i16
        })
        .collect()
}

#[test]
fn kill_9_during_features_leaves_no_partial_output() {
    let dir = tempfile::tempdir().unwrap();
    // Three minutes of audio in a one-utterance corpus: a text output of about 4 MB.
    let speaker = dir.path().join("data/timit-sample/dr1-xtst0");
    std::fs::create_dir_all(&speaker).unwrap();
    let samples = speechlike(180 * 16000);
    std::fs::write(speaker.join("sa1.wav"), encode_wav(&samples, 16000, 1)).unwrap();
    let end = samples.len();
    std::fs::write(
        speaker.join("sa1.phn"),
        format!(
            "0 2000 h#\n2000 {} s\n{} {end} h#\n",
            end - 2000,
            end - 2000
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let args = |out: &Path| -> Vec<String> {
        [
            "features",
            "--utt",
            "dr1-xtst0/sa1",
            "--data",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]
        .map(String::from)
        .to_vec()
    };
    let reference = dir.path().join("reference.txt");
    let fresh_cache = |round: &str| dir.path().join(format!("cache-{round}"));
    let a = args(&reference);
    let full = run_ok(
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        &fresh_cache("ref"),
    );
    let expected = std::fs::read(&reference).unwrap();
    assert!(expected.len() > 1 << 20, "{} bytes", expected.len());
    let (mut killed_before_the_end, mut mid_write) = (0, 0);
    let mut bisection = Bisection::new(full);
    for round in 0..ROUNDS {
        let delay = bisection.next();
        let round_dir = dir.path().join(format!("round{round}"));
        std::fs::create_dir(&round_dir).unwrap();
        let out = round_dir.join("feats.txt");
        let a = args(&out);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let landed = run_killed(&a, &fresh_cache(&round.to_string()), delay);
        mid_write += usize::from(!temporaries(&round_dir).is_empty());
        match std::fs::read(&out) {
            Ok(bytes) => assert!(
                bytes == expected,
                "round {round} ({delay:?}): partial output, {} of {} bytes",
                bytes.len(),
                expected.len()
            ),
            Err(_) => killed_before_the_end += usize::from(landed),
        }
        bisection.record(delay, out.exists());
        if round == 0 {
            // The next write clears a killed write's temporary.
            let stale = plant_stale_temp(&out);
            run_ok(&a, &fresh_cache("again"));
            assert!(!stale.exists(), "the stale temporary was kept");
            assert_eq!(temporaries(&round_dir), Vec::<String>::new());
            assert_eq!(std::fs::read(&out).unwrap(), expected);
        }
    }
    assert!(
        killed_before_the_end > 0,
        "no kill landed before the output was written: the test tested nothing"
    );
    // Informative: a kill inside the write itself is what mohaq-fsio's kill test makes sure of.
    eprintln!(
        "features: {killed_before_the_end} kills before the output, {mid_write} inside its write"
    );
}

/// A tiny finished search (2 dev utterances, a few candidates) whose front `export` reads.
/// On the way it checks two requests the search serves differently than written (issue #15,
/// defect 4): more test utterances than the split has, and the FC activation gene without 2
/// bits; each is a warning and a note in `limits.json`. And that a redirected search prints
/// plain progress lines (defect 10).
fn finished_run(dir: &Path, cache: &Path) -> PathBuf {
    let base =
        std::fs::read_to_string(workspace_root().join("experiments/compression.toml")).unwrap();
    let experiment = base
        .replace("dev_utterances = 72", "dev_utterances = 2")
        .replace("test_utterances = 0", "test_utterances = 100000")
        .replace("pop_size = 40", "pop_size = 4")
        .replace("n_offsprings = 10", "n_offsprings = 2")
        .replace("n_gen = 60", "n_gen = 1");
    let path = dir.join("tiny.toml");
    std::fs::write(&path, experiment).unwrap();
    let run_dir = dir.join("run");
    let (_, stderr) = run_ok_with_stderr(
        &[
            "search",
            "--experiment",
            path.to_str().unwrap(),
            "--out",
            run_dir.to_str().unwrap(),
        ],
        cache,
    );
    let limits = std::fs::read_to_string(run_dir.join("limits.json")).unwrap();
    for note in [
        "data.test_utterances = 100000, but the split has",
        "the FC activation gene takes no 2-bit value",
    ] {
        assert!(stderr.contains(note), "no warning `{note}`:\n{stderr}");
        assert!(limits.contains(note), "no note `{note}` in limits.json");
    }
    assert!(
        stderr.contains("evaluations 4/4: "),
        "no progress line:\n{stderr}"
    );
    run_dir
}

#[test]
fn kill_9_during_export_leaves_no_partial_output() {
    use mohaq_sru::deploy::{companion_path, read_exported};
    use mohaq_sru::model::params::read_tensors;
    let dir = tempfile::tempdir().unwrap();
    // The shared feature cache: the corpus utterances are the same for every run.
    let cache = mohaq_sru::features::default_cache_dir();
    let run_dir = finished_run(dir.path(), &cache);
    let run = run_dir.to_str().unwrap();
    let export = |out: &Path| -> Vec<String> {
        [
            "export",
            run,
            "--solution",
            "0",
            "--out",
            out.to_str().unwrap(),
        ]
        .map(String::from)
        .to_vec()
    };
    let reference = dir.path().join("reference.safetensors");
    let a = export(&reference);
    let full = run_ok(&a.iter().map(String::as_str).collect::<Vec<_>>(), &cache);
    let expected = read_exported(&reference).unwrap();
    let (mut killed_before_the_end, mut mid_write) = (0, 0);
    let mut bisection = Bisection::new(full);
    for round in 0..ROUNDS {
        let delay = bisection.next();
        let round_dir = dir.path().join(format!("round{round}"));
        std::fs::create_dir(&round_dir).unwrap();
        let out = round_dir.join("m.safetensors");
        let a = export(&out);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let landed = run_killed(&a, &cache, delay);
        mid_write += usize::from(!temporaries(&round_dir).is_empty());
        // The companion is written first: it may be there alone, but never in part.
        if companion_path(&out).exists() {
            read_tensors(&companion_path(&out))
                .unwrap_or_else(|e| panic!("round {round} ({delay:?}): partial companion: {e}"));
        }
        if out.exists() {
            let got = read_exported(&out)
                .unwrap_or_else(|e| panic!("round {round} ({delay:?}): partial export: {e}"));
            assert_eq!(
                (&got.bits, &got.alphas),
                (&expected.bits, &expected.alphas),
                "round {round}"
            );
            assert_eq!(got.weights.len(), expected.weights.len(), "round {round}");
        } else {
            killed_before_the_end += usize::from(landed);
        }
        bisection.record(delay, out.exists());
    }
    assert!(
        killed_before_the_end > 0,
        "no kill landed before the export was written: the test tested nothing"
    );
    eprintln!(
        "export: {killed_before_the_end} kills before the output, {mid_write} inside its write"
    );
    // The next export clears the temporaries of a killed one.
    let out = dir.path().join("again/m.safetensors");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let stale = [
        plant_stale_temp(&out),
        plant_stale_temp(&companion_path(&out)),
    ];
    let a = export(&out);
    run_ok(&a.iter().map(String::as_str).collect::<Vec<_>>(), &cache);
    assert!(stale.iter().all(|s| !s.exists()), "stale temporaries kept");
    assert_eq!(temporaries(out.parent().unwrap()), Vec::<String>::new());
}
