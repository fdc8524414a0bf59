//! Quantized inference of the shipped model on the shipped corpus: the all-16-bit model agrees
//! with the float model within 0.3 pp PER, and 2-bit weights hurt. Skipped (with a message) when
//! the corpus is absent.

use std::path::{Path, PathBuf};

use mohaq_quant::BitWidth;
use mohaq_sru::data::Split;
use mohaq_sru::features::LoadOptions;
use mohaq_sru::model::{ModelBundle, ModelConfig};
use mohaq_sru::quantized::{BitConfig, QuantizedEvaluator};
use mohaq_sru::train::pipeline::{evaluate_bundle, load};

fn data_dir() -> PathBuf {
    std::env::var_os("MOHAQ_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        })
}

#[test]
fn all_16_bit_matches_float_within_0_3_pp_and_frozen_calibration_works() {
    let dir = data_dir();
    if !dir.join("timit-sample").exists() {
        eprintln!("corpus not found at {}: skipped", dir.display());
        return;
    }
    let ws = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let config = ModelConfig::load(&ws.join("models/sru-default.toml")).unwrap();
    let bundle = ModelBundle::load(&config, &ws.join("models/sru-default.safetensors")).unwrap();
    let dev = load(&dir, Split::Dev, &LoadOptions::default()).unwrap();
    let (_, float_per) = evaluate_bundle(&bundle, &dev).unwrap();
    let ev = QuantizedEvaluator::from_bundle(&bundle, &dev).unwrap();
    let b16 = BitConfig::uniform(&config, BitWidth::B16);
    let q = ev.evaluate(&b16).unwrap();
    assert!(
        (q.per - float_per).abs() <= 0.3,
        "float {float_per} vs 16-bit {}",
        q.per
    );
    // Deterministic and cached: a second call gives the same result.
    assert_eq!(ev.evaluate(&b16).unwrap().per, q.per);
    let frozen = ev.calibrate(&b16).unwrap();
    let qf = ev.evaluate_frozen(&b16, &frozen).unwrap();
    assert!(
        (qf.per - float_per).abs() <= 0.5,
        "frozen 16-bit {}",
        qf.per
    );
    let b2 = BitConfig::uniform(&config, BitWidth::B2);
    assert!(ev.evaluate(&b2).unwrap().per > q.per + 5.0);
    assert!(ev.evaluate_frozen(&b2, &frozen).is_err());
}
