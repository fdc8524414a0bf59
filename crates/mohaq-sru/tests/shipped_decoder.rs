//! The shipped model carries decoder parameters tuned on dev (`mohaq tune-decoder`), not the
//! defaults, and they decode dev better than the defaults. The PER part is skipped (with a
//! message) when the corpus is absent.

use std::path::{Path, PathBuf};

use mohaq_sru::data::Split;
use mohaq_sru::decode::DecoderParams;
use mohaq_sru::features::LoadOptions;
use mohaq_sru::model::{ModelBundle, ModelConfig};
use mohaq_sru::train::pipeline::{evaluate_bundle, load};

fn data_dir() -> PathBuf {
    std::env::var_os("MOHAQ_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        })
}

#[test]
fn the_shipped_bundle_carries_tuned_decoder_parameters() {
    let ws = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let config = ModelConfig::load(&ws.join("models/sru-default.toml")).unwrap();
    let bundle = ModelBundle::load(&config, &ws.join("models/sru-default.safetensors")).unwrap();
    assert_ne!(bundle.decoder_params, DecoderParams::default());
    let dir = data_dir();
    if !dir.join("timit-sample").exists() {
        eprintln!("corpus not found at {}: PER check skipped", dir.display());
        return;
    }
    let dev = load(&dir, Split::Dev, &LoadOptions::default()).unwrap();
    let (_, tuned) = evaluate_bundle(&bundle, &dev).unwrap();
    let mut defaults = bundle.clone();
    defaults.decoder_params = DecoderParams::default();
    let (_, untuned) = evaluate_bundle(&defaults, &dev).unwrap();
    assert!(
        tuned + 3.0 < untuned,
        "tuned dev PER {tuned} should beat the defaults' {untuned} by over 3 pp"
    );
}

/// Every model shipped in `models/` (SRU, LSTM, trained here or imported) carries tuned decoder
/// parameters in its metadata, so `mohaq eval` on any of them decodes as its card reports.
#[test]
fn every_shipped_bundle_carries_tuned_decoder_parameters() {
    let models = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models"));
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(models).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "safetensors") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        let stored = header
            .metadata()
            .as_ref()
            .and_then(|m| m.get("decoder_params"))
            .unwrap_or_else(|| panic!("{}: no decoder parameters", path.display()));
        let params: DecoderParams = serde_json::from_str(stored).unwrap();
        assert_ne!(
            params,
            DecoderParams::default(),
            "{}: untuned decoder parameters",
            path.display()
        );
        checked.push(path.file_stem().unwrap().to_string_lossy().into_owned());
    }
    checked.sort();
    assert!(
        [
            "lstm-mohaq",
            "lstm-small",
            "sru-256",
            "sru-550",
            "sru-default"
        ]
        .iter()
        .all(|m| checked.iter().any(|c| c == m)),
        "{checked:?}"
    );
}
