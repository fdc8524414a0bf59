//! Golden test: our filterbank against Kaldi's definition as computed by kaldi-native-fbank
//! (fixtures/fbank/reference.json, made by fixtures/fbank/make_reference.py), plus hand checks.

use std::path::{Path, PathBuf};

use mohaq_sru::data::audio::read_audio;
use mohaq_sru::features::{Fbank, FbankOptions};

const TOLERANCE: f32 = 1e-3;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn data_dir() -> PathBuf {
    std::env::var_os("MOHAQ_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")).to_path_buf()
        })
}

fn reference() -> serde_json::Value {
    let path = workspace().join("fixtures/fbank/reference.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("reference.json parses")
}

fn case_samples(case: &serde_json::Value) -> Vec<i16> {
    if let Some(samples) = case.get("samples") {
        return samples
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap() as i16)
            .collect();
    }
    let rel = case["corpus_file"].as_str().unwrap();
    let path = data_dir().join(rel);
    read_audio(&path, 16000)
        .unwrap_or_else(|e| panic!("corpus needed for the golden test: {e}"))
        .samples
}

#[test]
fn matches_kaldi_native_fbank_within_1e_3() {
    let fbank = Fbank::new(&FbankOptions::default()).unwrap();
    let reference = reference();
    let cases = reference["cases"].as_array().unwrap();
    assert!(cases.len() >= 8);
    let mut worst = 0f32;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let samples = case_samples(case);
        assert_eq!(
            samples.len() as u64,
            case["num_samples"].as_u64().unwrap(),
            "{name}: sample count"
        );
        let ours = fbank.compute(&samples, 0);
        let frames = case["frames"].as_array().unwrap();
        let total = case["num_frames"].as_u64().unwrap() as usize;
        assert_eq!(ours.len(), total * 23, "{name}: frame count");
        for (i, frame) in frames.iter().enumerate() {
            for (j, want) in frame.as_array().unwrap().iter().enumerate() {
                let want = want.as_f64().unwrap() as f32;
                let got = ours[i * 23 + j];
                let diff = (got - want).abs();
                worst = worst.max(diff);
                assert!(
                    diff <= TOLERANCE,
                    "{name} frame {i} bin {j}: ours {got}, Kaldi {want}"
                );
            }
        }
    }
    eprintln!("largest deviation from kaldi-native-fbank: {worst:e}");
}

#[test]
fn hand_checked_cases() {
    let fbank = Fbank::new(&FbankOptions::default()).unwrap();
    let floor = f32::EPSILON.ln();
    // DC is removed per frame, so a constant signal is exactly as silent as silence.
    for signal in [vec![0i16; 800], vec![1000i16; 800], vec![-7i16; 800]] {
        let feats = fbank.compute(&signal, 0);
        assert_eq!(feats.len(), 3 * 23);
        assert!(
            feats.iter().all(|v| (v - floor).abs() < 1e-6),
            "{:?}",
            &feats[..4]
        );
    }
    // A 1 kHz tone peaks in the filter whose centre is nearest 1 kHz on the mel scale.
    let tone: Vec<i16> = (0..1600)
        .map(|n| {
            (10000.0 * (2.0 * std::f64::consts::PI * 1000.0 * n as f64 / 16000.0).sin()).round()
                as i16
        })
        .collect();
    let feats = fbank.compute(&tone, 0);
    let mel = |f: f64| 1127.0 * (1.0 + f / 700.0).ln();
    let delta = (mel(8000.0) - mel(20.0)) / 24.0;
    let nearest = (0..23)
        .min_by(|&a, &b| {
            let ca = (mel(20.0) + (a as f64 + 1.0) * delta - mel(1000.0)).abs();
            let cb = (mel(20.0) + (b as f64 + 1.0) * delta - mel(1000.0)).abs();
            ca.partial_cmp(&cb).unwrap()
        })
        .unwrap();
    for row in feats.chunks_exact(23) {
        let peak = (0..23)
            .max_by(|&a, &b| row[a].partial_cmp(&row[b]).unwrap())
            .unwrap();
        assert_eq!(peak, nearest);
        // Far from the tone only window leakage remains: at least 40 dB (≈ 9.2 nats) down.
        assert!(row[peak] - row[22] > 9.2);
    }
    // Doubling the amplitude adds ln 4 to every (non-floored) power coefficient.
    let louder: Vec<i16> = tone.iter().map(|s| s * 2).collect();
    let feats2 = fbank.compute(&louder, 0);
    for (a, b) in feats.iter().zip(&feats2) {
        assert!((b - a - 4f32.ln()).abs() < 1e-3);
    }
}
