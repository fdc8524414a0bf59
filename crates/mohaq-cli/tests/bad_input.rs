//! The bad-input suite: the release `mohaq` binary run on broken and unusual input as a new user
//! would give it. Every case must end without a panic or abort (exit status 0 or 1, never a
//! signal or 101/134), and every error must name the file at fault. Inputs are generated in a
//! temporary folder (small WAVs, corpora, experiment files, models); nothing is copied from the
//! corpus.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mohaq_sru::data::audio::encode_wav;
use mohaq_sru::data::wav::{encode, WavSpec};

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn mohaq(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mohaq"))
        .current_dir(workspace_root())
        .env("MOHAQ_LOG", "warn")
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Neither a panic nor an abort: a clean exit (0 or 1) and no Rust panic text.
fn assert_clean_exit(output: &Output, case: &str) {
    let stderr = text(&output.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("memory allocation"),
        "{case}: the binary panicked or aborted:\n{stderr}"
    );
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{case}: exit status {:?}\n{stderr}",
        output.status
    );
}

/// Fails cleanly with an error that names `file` (its name is enough) and contains `about`;
/// no path or OS error is printed twice.
fn assert_error(output: &Output, case: &str, file: &str, about: &str) {
    assert_clean_exit(output, case);
    let stderr = text(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{case}: expected failure\n{stderr}"
    );
    assert!(
        stderr.contains(file) && stderr.contains(about),
        "{case}: the error should name `{file}` and say `{about}`:\n{stderr}"
    );
    assert!(
        stderr.matches("(os error").count() <= 1,
        "{case}: OS error printed twice:\n{stderr}"
    );
    let doubled = format!("{file}: {file}");
    assert!(
        !stderr.contains(&doubled),
        "{case}: path printed twice:\n{stderr}"
    );
}

fn speechlike(n: usize) -> Vec<i16> {
    // A chirp with an envelope: loud enough to pass the silence gate, deterministic.
    (0..n)
        .map(|i| {
            let t = i as f64 / 16000.0;
            let env = (0.5 + 0.5 * (6.0 * t).sin()).max(0.1);
            (6000.0 * env * (2.0 * std::f64::consts::PI * (200.0 + 300.0 * t) * t).sin()) as i16
        })
        .collect()
}

const MODEL: &str = "models/sru-default.safetensors";

fn infer(wav: &Path) -> Output {
    mohaq(&["infer", "--model", MODEL, "--wav", wav.to_str().unwrap()])
}

#[test]
fn infer_takes_common_audio_and_says_what_it_converted() {
    let dir = tempfile::tempdir().unwrap();
    let samples = speechlike(16000);
    let as_f32: Vec<f32> = samples.iter().map(|&s| f32::from(s)).collect();
    let stereo: Vec<f32> = as_f32.iter().flat_map(|&s| [s, s]).collect();
    let cases: Vec<(&str, Vec<u8>, &[&str])> = vec![
        ("plain.wav", encode_wav(&samples, 16000, 1), &[]),
        (
            "stereo.wav",
            encode(
                WavSpec {
                    sample_rate: 16000,
                    channels: 2,
                    bits: 16,
                    float: false,
                },
                &stereo,
                None,
            ),
            &["downmixed to mono"],
        ),
        (
            "odd-chunk.wav",
            encode(
                WavSpec {
                    sample_rate: 16000,
                    channels: 1,
                    bits: 16,
                    float: false,
                },
                &as_f32,
                Some((b"LIST", b"abc")),
            ),
            &[],
        ),
        (
            "24bit.wav",
            encode(
                WavSpec {
                    sample_rate: 16000,
                    channels: 1,
                    bits: 24,
                    float: false,
                },
                &as_f32,
                None,
            ),
            &["24-bit PCM"],
        ),
        (
            "float.wav",
            encode(
                WavSpec {
                    sample_rate: 16000,
                    channels: 1,
                    bits: 32,
                    float: true,
                },
                &as_f32,
                None,
            ),
            &["32-bit float"],
        ),
        (
            "8bit.wav",
            encode(
                WavSpec {
                    sample_rate: 16000,
                    channels: 1,
                    bits: 8,
                    float: false,
                },
                &as_f32,
                None,
            ),
            &["8-bit PCM"],
        ),
        (
            "8khz.wav",
            encode_wav(
                &samples.iter().step_by(2).copied().collect::<Vec<_>>(),
                8000,
                1,
            ),
            &["resampled to 16000 Hz"],
        ),
    ];
    let mut first = None;
    // A corpus FLAC file (16 kHz mono 16-bit, read through claxon).
    let flac = std::fs::read(
        workspace_root().join("../shared/data/kathleen/arctic_a0001_1592748574.flac"),
    )
    .unwrap();
    let mut cases = cases;
    cases.push(("kathleen.flac", flac, &[]));
    for (name, bytes, says) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let output = infer(&path);
        assert_clean_exit(&output, name);
        let stderr = text(&output.stderr);
        assert!(output.status.success(), "{name}:\n{stderr}");
        for s in says {
            assert!(
                stderr.contains(s) && stderr.contains(name),
                "{name}: should say `{s}`:\n{stderr}"
            );
        }
        let phones = text(&output.stdout);
        assert!(!phones.trim().is_empty(), "{name}: no phones");
        // The lossless variants decode exactly like the plain file.
        if name == "plain.wav" {
            first = Some(phones);
        } else if matches!(
            name,
            "odd-chunk.wav" | "24bit.wav" | "float.wav" | "stereo.wav"
        ) {
            assert_eq!(Some(&phones), first.as_ref(), "{name} decodes differently");
        }
    }
}

#[test]
fn silence_and_dither_are_recognised_as_silence() {
    let dir = tempfile::tempdir().unwrap();
    let dither: Vec<i16> = (0..32000)
        .map(|i| [-1, 0, 1, 0, 1, -1][(i * 7 + i / 5) % 6])
        .collect();
    for (name, samples) in [("silence.wav", vec![0i16; 32000]), ("dither.wav", dither)] {
        let path = dir.path().join(name);
        std::fs::write(&path, encode_wav(&samples, 16000, 1)).unwrap();
        let output = infer(&path);
        assert_clean_exit(&output, name);
        assert!(output.status.success(), "{name}: {}", text(&output.stderr));
        assert_eq!(text(&output.stdout).trim(), "sil", "{name}");
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains(name) && stderr.contains("silent"),
            "{name}: {stderr}"
        );
    }
}

#[test]
fn broken_audio_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = encode_wav(&speechlike(8000), 16000, 1);
    let mut nan = encode(
        WavSpec {
            sample_rate: 16000,
            channels: 1,
            bits: 32,
            float: true,
        },
        &[100.0; 800],
        None,
    );
    let n = nan.len();
    nan[n - 4..].copy_from_slice(&f32::NAN.to_le_bytes());
    let mut adpcm = good.clone();
    adpcm[20] = 2;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.wav", Vec::new(), "empty file"),
        (
            "text.wav",
            b"hello, world".to_vec(),
            "not RIFF WAV, FLAC or NIST SPHERE",
        ),
        (
            "short.wav",
            good[..good.len() / 2].to_vec(),
            "truncated audio",
        ),
        ("header.wav", good[..30].to_vec(), "`fmt ` chunk"),
        ("nan.wav", nan, "not a finite number"),
        ("adpcm.wav", adpcm, "format tag 0x0002"),
        (
            "tiny.wav",
            encode_wav(&speechlike(100), 16000, 1),
            "shorter than one 25 ms feature frame",
        ),
        ("fake.flac", b"fLaC\0\0\0\x22garbage".to_vec(), "fake.flac"),
        // A corpus FLAC cut short: found while it is streamed, the same error as read whole.
        (
            "short.flac",
            std::fs::read(
                workspace_root().join("../shared/data/kathleen/arctic_a0001_1592748574.flac"),
            )
            .unwrap()[..30000]
                .to_vec(),
            "truncated audio",
        ),
    ];
    for (name, bytes, about) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        assert_error(&infer(&path), name, name, about);
    }
    assert_error(
        &infer(&dir.path().join("missing.wav")),
        "missing audio",
        "missing.wav",
        "No such file",
    );
}

#[test]
fn bad_models_and_widths_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("a.wav");
    std::fs::write(&wav, encode_wav(&speechlike(8000), 16000, 1)).unwrap();
    let wav = wav.to_str().unwrap();
    let junk = dir.path().join("junk.safetensors");
    std::fs::write(&junk, b"not a model").unwrap();
    let d = dir.path().to_str().unwrap();
    let cases: [(&[&str], &str, &str); 5] = [
        (&["infer", "--model", d, "--wav", wav], d, "is a directory"),
        (
            &["infer", "--model", "nope.safetensors", "--wav", wav],
            "nope.safetensors",
            "not found",
        ),
        (
            &["infer", "--model", junk.to_str().unwrap(), "--wav", wav],
            "junk.safetensors",
            "safetensors",
        ),
        (
            &["infer", "--model", MODEL, "--wav", wav, "--bits", "3"],
            "--bits 3",
            "3",
        ),
        (
            &["infer", "--model", MODEL, "--wav", wav, "--bits", "8,8,8"],
            "--bits 8,8,8",
            "16",
        ),
    ];
    for (args, file, about) in cases {
        assert_error(&mohaq(args), &args.join(" "), file, about);
    }
    // A 2-bit FC activation runs at 4 bits, and says so.
    let output = mohaq(&["infer", "--model", MODEL, "--wav", wav, "--bits", "2"]);
    assert_clean_exit(&output, "--bits 2");
    let stderr = text(&output.stderr);
    assert!(
        output.status.success() && stderr.contains("runs at 4 bits"),
        "{stderr}"
    );
}

/// A model bundle whose `fc.bias` holds a NaN: refused naming the file and the tensor.
#[test]
fn nan_weights_are_refused_naming_file_and_tensor() {
    use mohaq_sru::model::{ModelBundle, ModelConfig};
    let dir = tempfile::tempdir().unwrap();
    let root = workspace_root();
    let config = ModelConfig::load(&root.join("models/sru-default.toml")).unwrap();
    let mut bundle = ModelBundle::load(&config, &root.join(MODEL)).unwrap();
    bundle.params.fc_bias[3] = f32::NAN;
    let bad = dir.path().join("nan-model.safetensors");
    bundle.save(&bad).unwrap();
    let wav = dir.path().join("a.wav");
    std::fs::write(&wav, encode_wav(&speechlike(8000), 16000, 1)).unwrap();
    let output = mohaq(&[
        "infer",
        "--model",
        bad.to_str().unwrap(),
        "--wav",
        wav.to_str().unwrap(),
    ]);
    assert_error(&output, "NaN weights", "nan-model.safetensors", "fc.bias");
}

/// An exported model: no float matrices in its companion, and a different `--bits` is refused;
/// `eval` given the export says what the file is.
#[test]
fn exports_run_only_at_their_widths() {
    use mohaq_sru::deploy::{companion_path, write_exported};
    use mohaq_sru::model::params::read_tensors;
    use mohaq_sru::model::{ModelBundle, ModelConfig};
    use mohaq_sru::quantized::{BitConfig, QuantizedModel};
    let dir = tempfile::tempdir().unwrap();
    let root = workspace_root();
    let config = ModelConfig::load(&root.join("models/sru-default.toml")).unwrap();
    let bundle = ModelBundle::load(&config, &root.join(MODEL)).unwrap();
    let bits = BitConfig::parse(&config, "8").unwrap();
    let packed = QuantizedModel::new(bundle.params.clone())
        .weights(&bits)
        .unwrap();
    let alphas = vec![4.0; config.matrix_layers().len()];
    let out = dir.path().join("m.q.safetensors");
    let files = write_exported(&out, &bundle, &bundle.params, &bits, &packed, &alphas).unwrap();
    let (tensors, _) = read_tensors(&companion_path(&out)).unwrap();
    for layer in config.matrix_layers() {
        let name = mohaq_sru::model::params::matrix_tensor_name(layer.kind);
        assert!(
            !tensors.contains_key(&name),
            "the companion still holds `{name}`"
        );
    }
    let companion_bytes = std::fs::metadata(&files.companion).unwrap().len();
    assert!(
        companion_bytes < files.packed_bytes / 2,
        "companion {companion_bytes} B beside {} B of packed weights",
        files.packed_bytes
    );
    let wav = dir.path().join("a.wav");
    std::fs::write(&wav, encode_wav(&speechlike(16000), 16000, 1)).unwrap();
    let (model, wav) = (out.to_str().unwrap(), wav.to_str().unwrap());
    let ok = mohaq(&["infer", "--model", model, "--wav", wav]);
    assert_clean_exit(&ok, "export at its widths");
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(text(&ok.stderr).contains("frozen"), "{}", text(&ok.stderr));
    let same = mohaq(&["infer", "--model", model, "--wav", wav, "--bits", "8"]);
    assert!(same.status.success(), "{}", text(&same.stderr));
    assert_eq!(same.stdout, ok.stdout);
    assert_error(
        &mohaq(&["infer", "--model", model, "--wav", wav, "--bits", "4"]),
        "export at other widths",
        "m.q.safetensors",
        "runs at its own widths",
    );
    assert_error(
        &mohaq(&[
            "eval",
            "--model",
            model,
            "--data",
            dir.path().to_str().unwrap(),
        ]),
        "eval on an export",
        "m.q.safetensors",
        "mohaq export",
    );
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn broken_corpora_are_reported_file_by_file() {
    let dir = tempfile::tempdir().unwrap();
    let spk = dir.path().join("timit-sample/dr1-xtst0");
    let phn = b"0 2000 h#\n2000 6000 s\n6000 8000 h#\n";
    write(
        &spk.join("sa1.wav"),
        &encode_wav(&speechlike(8000), 16000, 1),
    );
    write(&spk.join("sa1.phn"), phn);
    write(
        &spk.join("sa2.wav"),
        &encode_wav(&speechlike(4000), 8000, 1),
    );
    write(&spk.join("sa2.phn"), phn);
    write(
        &spk.join("si1.wav"),
        &encode_wav(&speechlike(8000), 16000, 1),
    );
    write(&spk.join("si1.phn"), b"0 2000 h#\n2000 x s\n");
    write(&spk.join("orphan.phn"), phn);
    let d = dir.path().to_str().unwrap();
    let output = mohaq(&["data", "check", "--data", d]);
    assert_clean_exit(&output, "data check");
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1));
    for expected in [
        "sa2.wav: sample rate 8000 Hz",
        "si1.phn:2: malformed",
        "orphan.phn: label file without audio",
    ] {
        assert!(stdout.contains(expected), "no `{expected}` in\n{stdout}");
    }
    // With --resample the 8 kHz file is fine; the rest is still reported.
    let output = mohaq(&["data", "check", "--data", d, "--resample"]);
    let stdout = text(&output.stdout);
    assert!(!stdout.contains("sa2.wav"), "{stdout}");
    assert!(stdout.contains("si1.phn:2: malformed"), "{stdout}");
    assert_error(
        &mohaq(&["data", "stats", "--data", "no-such-dir"]),
        "missing data dir",
        "no-such-dir",
        "give --data DIR",
    );
}

#[test]
fn bad_experiment_files_are_refused_naming_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let base =
        std::fs::read_to_string(workspace_root().join("experiments/compression.toml")).unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "huge-pop.toml",
            base.replace("pop_size = 40", "pop_size = 1000000000000"),
            "search.pop_size",
        ),
        (
            "huge-gen.toml",
            base.replace("n_gen = 60", "n_gen = 1000000000"),
            "search.n_gen",
        ),
        (
            "unknown-key.toml",
            base.replace("[search]", "[search]\nn_gen_extra = 1"),
            "n_gen_extra",
        ),
        ("syntax.toml", "name = \n".to_string(), "syntax.toml"),
        (
            "width.toml",
            base.replace("[search]", "[search]\nwidths = [3]"),
            "search.widths",
        ),
    ];
    for (name, content, about) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let out = dir.path().join(format!("run-{name}"));
        let output = mohaq(&[
            "search",
            "--experiment",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_error(&output, name, name, about);
    }
    assert_error(
        &mohaq(&["search", "--experiment", "missing.toml"]),
        "missing experiment",
        "missing.toml",
        "No such file",
    );
}

/// The shipped model with its safetensors header edited by `edit` (the header length adjusted),
/// or its bytes cut by `cut` at the end.
fn damaged_model(edit: impl FnOnce(&mut serde_json::Value), cut: usize) -> Vec<u8> {
    let bytes = std::fs::read(workspace_root().join(MODEL)).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    edit(&mut header);
    let header = serde_json::to_vec(&header).unwrap();
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&header);
    out.extend_from_slice(&bytes[8 + n..bytes.len() - cut]);
    out
}

/// safetensors' own "invalid shape, data type, or offset for tensor" names no tensor: the error
/// must name the file and the tensor and say what is wrong (a shape that does not match its
/// bytes, a truncated file), for a model given to `infer` and to `eval`.
#[test]
fn a_damaged_safetensors_file_names_the_tensor_and_the_fault() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("a.wav");
    std::fs::write(&wav, encode_wav(&speechlike(8000), 16000, 1)).unwrap();
    let reshaped = damaged_model(|h| h["fc.bias"]["shape"] = serde_json::json!([2, 3]), 0);
    let truncated = damaged_model(|_| {}, 100);
    let cases: [(&str, Vec<u8>, &[&str]); 2] = [
        (
            "reshaped.safetensors",
            reshaped,
            &["tensor `fc.bias`", "F32 [2, 3]", "24 bytes"],
        ),
        (
            "truncated.safetensors",
            truncated,
            &["tensor `", "truncated"],
        ),
    ];
    for (name, bytes, says) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let model = path.to_str().unwrap();
        for args in [
            vec!["infer", "--model", model, "--wav", wav.to_str().unwrap()],
            vec!["eval", "--model", model, "--data", "/nonexistent-corpus"],
        ] {
            let output = mohaq(&args);
            for about in says {
                assert_error(&output, &args.join(" "), name, about);
            }
            assert_eq!(
                text(&output.stderr).matches(model).count(),
                1,
                "{name}: the path is printed more than once:\n{}",
                text(&output.stderr)
            );
            assert!(
                !text(&output.stderr).contains("invalid shape, data type, or offset"),
                "{name}: the crate's bare message:\n{}",
                text(&output.stderr)
            );
        }
    }
}

/// `search.widths` the platform cannot run: refused before any data is read (the data folder
/// does not exist, so an error about anything else means loading came first), naming the
/// experiment file, the width and the platform; by `search` and `exhaustive` alike.
#[test]
fn a_width_the_platform_cannot_run_is_refused_before_any_data_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(workspace_root().join("experiments/silago.toml")).unwrap();
    let path = dir.path().join("silago-2bit.toml");
    std::fs::write(&path, base.replace("[search]", "[search]\nwidths = [2, 8]")).unwrap();
    let experiment = path.to_str().unwrap();
    let out = dir.path().join("run");
    let out = out.to_str().unwrap();
    for command in ["search", "exhaustive"] {
        let output = mohaq(&[
            command,
            "--experiment",
            experiment,
            "--out",
            out,
            "--data",
            "/nonexistent-corpus",
        ]);
        for about in ["2-bit", "SiLago", "search.widths"] {
            assert_error(&output, command, "silago-2bit.toml", about);
        }
        let stderr = text(&output.stderr);
        assert!(
            !stderr.contains("nonexistent-corpus") && !stderr.contains("loading"),
            "{command}: data loading came first:\n{stderr}"
        );
    }
}
