//! Platform and Bit Fusion configuration files: the shipped files load, and bad files fail with
//! errors that name the file and the key.

use mohaq_hw::bitfusion::BitFusionConfig;
use mohaq_hw::{HwError, Platform};

const SILAGO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../platforms/silago.toml");

fn silago_text() -> String {
    std::fs::read_to_string(SILAGO).unwrap()
}

fn platforms_dir() -> String {
    format!("{}/../../platforms", env!("CARGO_MANIFEST_DIR"))
}

/// Writes `text` to a temporary platform file and loads it; returns the error text.
fn load_error(text: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("custom.toml");
    std::fs::write(&path, text).unwrap();
    let err = Platform::from_toml_file(&path).unwrap_err();
    (path.display().to_string(), err.to_string())
}

#[test]
fn shipped_platforms_load() {
    for file in ["silago.toml", "bitfusion.toml", "bitfusion-bf_e.toml"] {
        let p = Platform::from_toml_file(format!("{}/{file}", platforms_dir()))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!p.name().is_empty());
    }
}

#[test]
fn shipped_bitfusion_configs_equal_the_presets() {
    for name in ["bf_e", "conf"] {
        let path = format!("{}/bitfusion/{name}.toml", platforms_dir());
        let loaded = BitFusionConfig::from_toml_file(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(Some(loaded), BitFusionConfig::preset(name));
    }
}

#[test]
fn unknown_key_names_file_and_key() {
    let (file, err) = load_error(&silago_text().replace("shared_width", "shared_widht"));
    assert!(err.contains(&file), "{err}");
    assert!(err.contains("shared_widht"), "{err}");
    // Unknown keys inside tables too.
    let (_, err) =
        load_error(&silago_text().replace("mac_energy_pj = 1.666", "mac_energy = 1.666"));
    assert!(err.contains("mac_energy"), "{err}");
}

#[test]
fn missing_key_names_file_and_key() {
    let (file, err) = load_error(&silago_text().replace("memory_limit_mb = 6.0", ""));
    assert!(
        err.contains(&file) && err.contains("memory_limit_mb"),
        "{err}"
    );
    // The section that the cost model needs.
    let text = silago_text();
    let cut = text.find("[analytic]").unwrap();
    let (_, err) = load_error(&text[..cut]);
    assert!(
        err.contains("`analytic`") && err.contains("missing"),
        "{err}"
    );
}

#[test]
fn invalid_values_name_file_and_key() {
    let cases = [
        (
            "memory_limit_mb = 6.0",
            "memory_limit_mb = -1.0",
            "memory_limit_mb",
        ),
        (
            "weight_bits = [4, 8, 16]",
            "weight_bits = [4, 8, 8]",
            "weight_bits",
        ),
        (
            "weight_bits = [4, 8, 16]",
            "weight_bits = [0, 8, 16]",
            "weight_bits",
        ),
        (
            "activation_bits = [4, 8, 16]",
            "activation_bits = [4, 8]",
            "activation_bits",
        ),
        (
            "speedup = 2.0",
            "speedup = 0.0",
            "analytic.precision[1].speedup",
        ),
        (
            "mac_energy_pj = 0.542",
            "mac_energy_pj = -0.5",
            "analytic.precision[1].mac_energy_pj",
        ),
        ("mac_energy_pj = 0.542", "", "analytic.precision"),
        (
            "speedup_objective = \"paper\"",
            "speedup_objective = \"fast\"",
            "speedup_objective",
        ),
        (
            "cost_model = \"analytic\"",
            "cost_model = \"bitfusion_sim\"",
            "bitfusion_sim",
        ),
    ];
    for (from, to, key) in cases {
        let text = silago_text();
        assert!(text.contains(from), "{from}");
        let (file, err) = load_error(&text.replacen(from, to, 1));
        assert!(err.contains(&file), "{to}: {err}");
        assert!(err.contains(key), "{to}: {err}");
    }
}

#[test]
fn table_must_cover_every_allowed_width() {
    let text = silago_text();
    let start = text.rfind("[[analytic.precision]]").unwrap();
    let (_, err) = load_error(&text[..start]);
    assert!(err.contains("weights 4 / activations 4"), "{err}");
}

#[test]
fn inline_text_errors_name_inline() {
    let err = Platform::from_toml_str("name = \"x\"").unwrap_err();
    assert!(matches!(err, HwError::Toml { .. }));
    assert!(err.to_string().starts_with("<inline>"), "{err}");
}

#[test]
fn missing_file_is_an_io_error() {
    let err = Platform::from_toml_file("/nonexistent/platform.toml").unwrap_err();
    assert!(matches!(err, HwError::Io { .. }));
    assert!(err.to_string().contains("/nonexistent/platform.toml"));
}

#[test]
fn bad_bitfusion_config_names_its_file_and_key() {
    let text = std::fs::read_to_string(format!("{}/bitfusion/bf_e.toml", platforms_dir())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    for (from, to, key) in [
        ("rows = 16", "rows = 0", "rows"),
        ("pmax = 8", "pmax = 1", "pmax"),
        (
            "dram_per_bit = 0.015",
            "dram_per_bit = -1.0",
            "energy_nj.dram_per_bit",
        ),
        ("rows = 16", "rowz = 16", "rowz"),
        ("frequency_mhz = 500.0", "", "frequency_mhz"),
    ] {
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
        let err = BitFusionConfig::from_toml_file(&path)
            .unwrap_err()
            .to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains(key), "{to}: {err}");
    }

    // A platform that points at a bad config reports the config file.
    std::fs::write(&path, text.replace("rows = 16", "rows = 0")).unwrap();
    let platform = std::fs::read_to_string(format!("{}/bitfusion-bf_e.toml", platforms_dir()))
        .unwrap()
        .replace("bitfusion/bf_e.toml", "bad.toml");
    let platform_path = dir.path().join("p.toml");
    std::fs::write(&platform_path, platform).unwrap();
    let err = Platform::from_toml_file(&platform_path)
        .unwrap_err()
        .to_string();
    assert!(err.contains("bad.toml") && err.contains("rows"), "{err}");
}
