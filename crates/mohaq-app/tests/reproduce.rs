//! The reproduce pipeline on the synthetic model (into a temporary folder: synthetic figures
//! never reach results/), and E4 against the paper's values.

use std::path::PathBuf;

use mohaq_app::model_comparison::read_digest;
use mohaq_app::report::write_report;
use mohaq_app::reproduce::{
    load_experiment, reproduce_hardware, reproduce_model, ModelChoice, ReproduceConfig,
};
use mohaq_beacon::experiment::Experiment;
use mohaq_beacon::synthetic::SyntheticModel;
use mohaq_evo::Silent;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn shipped_experiments_parse() {
    for name in [
        "compression",
        "silago",
        "bitfusion",
        "bitfusion-beacon",
        "bitfusion-beacon-fixed",
    ] {
        let path = workspace().join("experiments").join(format!("{name}.toml"));
        let e = Experiment::from_file(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(e.name, name);
    }
}

#[test]
fn hardware_models_match_the_paper_values() {
    let out = tempfile::tempdir().unwrap();
    let config = ReproduceConfig::new(workspace(), out.path().to_path_buf(), true);
    let h = reproduce_hardware(&config).unwrap();
    assert!((h.fp32_size_mb - 21.2).abs() < 0.05);
    for r in &h.uniform {
        assert!(
            (r.size_mb - r.paper_size_mb.unwrap()).abs() < 0.006,
            "{r:?}"
        );
        assert!(
            (r.bitfusion_speedup - r.paper_bitfusion_speedup.unwrap()).abs() < 1e-3,
            "{r:?}"
        );
        if let Some(p) = r.paper_silago_speedup {
            assert!((r.silago_speedup.unwrap() - p).abs() < 1e-3, "{r:?}");
            let e = r.paper_silago_energy_uj.unwrap();
            assert!((r.silago_energy_uj.unwrap() - e).abs() < 2e-3, "{r:?}");
        }
    }
    assert!(h.reference.rows >= 36);
    assert!(
        h.reference.mismatches.is_empty(),
        "{:?}",
        h.reference.mismatches
    );
    assert!(out.path().join("e4_hardware.json").is_file());
}

#[test]
fn quick_reproduction_on_the_synthetic_model_writes_a_full_report() {
    let out = tempfile::tempdir().unwrap();
    let config = ReproduceConfig::new(workspace(), out.path().to_path_buf(), true);
    let model = SyntheticModel::new();
    let h = reproduce_hardware(&config).unwrap();
    let mut progress = |_: usize, _: usize| {};
    let r = reproduce_model(&config, &model, &mut Silent, &mut progress).unwrap();
    assert_eq!(r.ptq.len(), 19);
    let x = r.silago_exhaustive.as_ref().unwrap();
    // --quick restricts E2 to two widths per layer: 2^8 candidates (the full run has 3^8).
    assert_eq!(
        x.candidates,
        mohaq_app::reproduce::QUICK_SILAGO_WIDTHS.len().pow(8)
    );
    assert!(x.recovered <= x.true_front.len() && !x.true_front.is_empty());
    assert!(r.claims.len() >= 5);
    write_report(out.path(), true, &h, Some(&r), &[]).unwrap();
    let report = std::fs::read_to_string(out.path().join("REPORT.md")).unwrap();
    for needle in [
        "Paper claims",
        "E0",
        "E1",
        "E2",
        "E3",
        "E4",
        "4.9 pp",
        "97 %",
        "e3_bitfusion.svg",
        "E5: how good is the search",
        "HV ratio",
        "Hypervolume",
        "reference point",
    ] {
        assert!(report.contains(needle), "missing {needle}");
    }
    assert!(out.path().join("e2_silago.svg").is_file());
    // E5: SiLago against its exhaustive front, Bit Fusion against the union of fronts.
    assert_eq!(r.search_quality.len(), 2);
    assert!(r.search_quality[0]
        .reference_kind
        .contains("256 candidates"));
    assert!(r.search_quality[1].reference_kind.contains("union"));
    for c in &r.search_quality {
        assert!(out
            .path()
            .join(format!("e5_{}.svg", c.experiment))
            .is_file());
        assert_eq!(c.methods.len(), 7);
        assert!(c.methods.iter().any(|m| m.name.contains("surrogate")));
    }
    assert!(out.path().join("e5_search_quality.json").is_file());
    assert!(report.contains("computed on this model's own layer table"));
    assert_eq!(r.beacon_epochs, Some(1));
    assert!(report.contains("retrained for 1 QAT epoch ("));
    assert!(!report.contains("Models side by side"));

    // The same results read back as another run's and shown beside this one.
    let beside = read_digest(out.path()).unwrap();
    assert_eq!(beside.claims.len(), r.claims.len());
    let second = tempfile::tempdir().unwrap();
    write_report(second.path(), true, &h, Some(&r), &[beside]).unwrap();
    let report = std::fs::read_to_string(second.path().join("REPORT.md")).unwrap();
    let section = &report[report
        .find("## Models side by side")
        .expect("side-by-side section")..];
    assert_eq!(section.matches(&format!("ours, `{}`", r.model)).count(), 4);
    for claim in &r.claims {
        let row = section
            .lines()
            .find(|l| l.starts_with(&format!("| {} |", claim.claim)))
            .unwrap_or_else(|| panic!("no row for {}", claim.claim));
        assert_eq!(row.matches(claim.ours.as_str()).count(), 2, "{row}");
    }
    assert!(section.contains("| uniform 8 |"));

    // A rerun in the same folder (to add `--beside`, or after a kill) reuses the finished E5:
    // a marked saved comparison comes back as saved. Other budgets are recomputed; a damaged
    // file is an error naming it.
    let e5 = out.path().join("e5_search_quality.json");
    let mut saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&e5).unwrap()).unwrap();
    saved[1]["reference_kind"] = "marked by the test".into();
    std::fs::write(&e5, saved.to_string()).unwrap();
    let again = reproduce_model(&config, &model, &mut Silent, &mut progress).unwrap();
    assert_eq!(again.search_quality[1].reference_kind, "marked by the test");
    assert_eq!(again.search_quality[0], r.search_quality[0]);
    saved[1]["budgets"] = serde_json::json!([1, 2]);
    std::fs::write(&e5, saved.to_string()).unwrap();
    let recomputed = reproduce_model(&config, &model, &mut Silent, &mut progress).unwrap();
    assert_eq!(recomputed.search_quality, r.search_quality);
    // Without Bit Fusion's E5 (the `--model` default): SiLago's alone, and the report says so.
    let silago_only = ReproduceConfig {
        bitfusion_e5: false,
        ..config.clone()
    };
    let lean = reproduce_model(&silago_only, &model, &mut Silent, &mut progress).unwrap();
    assert_eq!(lean.search_quality, r.search_quality[..1]);
    let third = tempfile::tempdir().unwrap();
    write_report(third.path(), true, &h, Some(&lean), &[]).unwrap();
    let report = std::fs::read_to_string(third.path().join("REPORT.md")).unwrap();
    assert!(report.contains("E5 on Bit Fusion was not run"));
    std::fs::write(&e5, "[{").unwrap();
    let err = reproduce_model(&config, &model, &mut Silent, &mut progress)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("e5_search_quality.json") && err.contains("malformed"),
        "{err}"
    );
}

#[test]
fn a_results_folder_without_results_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = read_digest(dir.path()).unwrap_err().to_string();
    assert!(err.contains("e0_e3_results.json"), "{err}");
    std::fs::write(dir.path().join("e0_e3_results.json"), "{\"model\": 3}").unwrap();
    let err = read_digest(dir.path()).unwrap_err().to_string();
    assert!(err.contains("not the E0-E3 results"), "{err}");
}

#[test]
fn a_model_is_picked_by_name_or_path_and_a_missing_half_is_named() {
    let choice = ModelChoice::resolve(&workspace(), "sru-default").unwrap();
    assert_eq!(choice.name, "sru-default");
    assert!(choice
        .section
        .weights
        .ends_with("models/sru-default.safetensors"));
    let by_path = ModelChoice::resolve(
        &workspace(),
        &format!("{}", choice.section.config.display()),
    )
    .unwrap();
    assert_eq!(by_path, choice);
    // The paper-size config is shipped for the cost tables, without weights.
    let missing = workspace().join("models/sru-paper.toml");
    let err = ModelChoice::resolve(&workspace(), &missing.display().to_string())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("sru-paper.safetensors") && err.contains("missing"),
        "{err}"
    );

    let out = tempfile::tempdir().unwrap();
    let mut config = ReproduceConfig::new(workspace(), out.path().to_path_buf(), false);
    config.model = Some(choice);
    let e = load_experiment(&config, "silago").unwrap();
    assert_eq!(e.name, "silago-sru-default");
    assert!(e.model.weights.is_absolute());
    // Experiments outside E0-E3 keep their own model.
    let lstm = load_experiment(&config, "lstm-compression").unwrap();
    let own = Experiment::from_file(&workspace().join("experiments/lstm-compression.toml"))
        .unwrap()
        .resolve(&workspace());
    assert_eq!(lstm.model, own.model);
    assert_ne!(lstm.model, config.model.as_ref().unwrap().section);
}
