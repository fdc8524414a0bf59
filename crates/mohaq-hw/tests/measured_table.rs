//! The measured-table cost model (`cost_model = "table"`): lookup rules (name, then shape, else an
//! error naming layer, widths and file), speedup and energy from the table, and bad CSV files
//! rejected with the file and the line.

use mohaq_hw::{HwError, MatrixLayer, Platform, SpeedupMode, Workload};
use std::path::{Path, PathBuf};

const PLATFORM: &str = r#"
name = "measured"
weight_bits = [8, 16]
activation_bits = [8, 16]
shared_width = false
memory_limit_mb = 1.0
speedup_objective = "physical"
cost_model = "table"

[table]
file = "costs.csv"
"#;

/// A platform file and its CSV in a fresh folder.
struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new(toml: &str, csv: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("platform.toml"), toml).unwrap();
        std::fs::write(dir.path().join("costs.csv"), csv).unwrap();
        Files { dir }
    }
    fn toml(&self) -> PathBuf {
        self.dir.path().join("platform.toml")
    }
    fn csv(&self) -> String {
        self.dir.path().join("costs.csv").display().to_string()
    }
    fn load(&self) -> Result<Platform, HwError> {
        Platform::from_toml_file(self.toml())
    }
}

/// Every pair of the platform for `layer` with latency `base / (16/w · 16/a)^½`-like values.
fn rows_for(layer: &str, base: f64, energy: Option<f64>) -> String {
    let mut out = String::new();
    for (w, a, factor) in [(16, 16, 1.0), (16, 8, 0.8), (8, 16, 0.7), (8, 8, 0.5)] {
        match energy {
            Some(e) => out += &format!("{layer},{w},{a},{},{}\n", base * factor, e * factor),
            None => out += &format!("{layer},{w},{a},{}\n", base * factor),
        }
    }
    out
}

fn two_layers() -> Workload {
    Workload::new(
        "two",
        vec![
            MatrixLayer::fully_connected("A", 10, 20),
            MatrixLayer::fully_connected("B", 20, 5),
        ],
    )
    .unwrap()
}

fn error_text(files: &Files) -> String {
    files.load().unwrap_err().to_string()
}

#[test]
fn speedup_is_baseline_latency_over_candidate_latency() {
    let csv = format!(
        "layer,weight_bits,activation_bits,latency_us\n{}{}",
        rows_for("A", 10.0, None),
        rows_for("B", 30.0, None)
    );
    let files = Files::new(PLATFORM, &csv);
    let p = files.load().unwrap();
    assert!(!p.has_energy());
    assert_eq!(p.baseline_pair(), (16, 16));
    let w = two_layers();
    let cost = p.evaluate(&w, &[(8, 8), (16, 8)]).unwrap();
    // A: 10 → 5 (×2); B: 30 → 24 (×1.25); total 40 → 29.
    assert!((cost.layers[0].speedup - 2.0).abs() < 1e-12);
    assert!((cost.layers[1].speedup - 1.25).abs() < 1e-12);
    assert_eq!(cost.layers[0].latency_us, Some(5.0));
    assert!((cost.latency_us_per_frame.unwrap() - 29.0).abs() < 1e-12);
    assert!((cost.speedup_physical - 40.0 / 29.0).abs() < 1e-12);
    assert_eq!(cost.speedup_mode, SpeedupMode::Physical);
    assert_eq!(cost.speedup, cost.speedup_physical);
    // Paper mode: MAC-weighted mean (200·2 + 100·1.25) / 300.
    assert!((cost.speedup_paper - 525.0 / 300.0).abs() < 1e-12);
    assert_eq!(cost.energy_uj_per_frame, None);
    // The all-baseline assignment is exactly 1.
    let base = p.evaluate(&w, &[(16, 16), (16, 16)]).unwrap();
    assert_eq!(base.speedup, 1.0);
    // Size is the weights at their widths, as for every platform.
    assert_eq!(cost.layers[0].size_bits, 200 * 8);
}

#[test]
fn energy_is_summed_over_layers_and_extremes_use_it() {
    let csv = format!(
        "layer,weight_bits,activation_bits,latency_us,energy_uj\n{}{}",
        rows_for("A", 10.0, Some(2.0)),
        rows_for("B", 30.0, Some(4.0))
    );
    let files = Files::new(PLATFORM, &csv);
    let p = files.load().unwrap();
    assert!(p.has_energy());
    let w = two_layers();
    let cost = p.evaluate(&w, &[(8, 16), (16, 16)]).unwrap();
    assert!((cost.energy_uj_per_frame.unwrap() - (2.0 * 0.7 + 4.0)).abs() < 1e-12);
    let ex = p.extremes(&w).unwrap();
    assert_eq!(
        ex.fastest
            .layers
            .iter()
            .map(|l| (l.weight_bits, l.activation_bits))
            .collect::<Vec<_>>(),
        [(8, 8), (8, 8)]
    );
    assert!((ex.least_energy.unwrap().energy_uj_per_frame.unwrap() - 3.0).abs() < 1e-12);
}

#[test]
fn a_name_row_wins_over_a_shape_row_and_shapes_are_rows_x_cols() {
    // Layer A is 10 inputs → 20 outputs: weight shape 20x10. B (20 → 5) is costed by shape 5x20;
    // A has both name and shape rows, and the name rows win.
    let csv = format!(
        "# comment lines and blank lines are skipped\n\nlayer,weight_bits,activation_bits,latency_us\n{}{}{}",
        rows_for("A", 10.0, None),
        rows_for("20x10", 99.0, None),
        rows_for("5x20", 30.0, None)
    );
    let files = Files::new(PLATFORM, &csv);
    let p = files.load().unwrap();
    let cost = p.evaluate(&two_layers(), &[(16, 16), (8, 8)]).unwrap();
    assert_eq!(cost.layers[0].latency_us, Some(10.0));
    assert_eq!(cost.layers[1].latency_us, Some(15.0));

    // The transposed shape is not B's shape: the row matches no layer.
    let csv = format!(
        "layer,weight_bits,activation_bits,latency_us\n{}{}",
        rows_for("A", 10.0, None),
        rows_for("20x5", 30.0, None)
    );
    let files = Files::new(PLATFORM, &csv);
    let err = files
        .load()
        .unwrap()
        .evaluate(&two_layers(), &[(16, 16), (8, 8)])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&files.csv()) && err.contains("line 6") && err.contains("shape 20x5"),
        "{err}"
    );
}

#[test]
fn a_missing_pair_names_the_layer_the_widths_and_the_file() {
    let mut csv = format!(
        "layer,weight_bits,activation_bits,latency_us\n{}{}",
        rows_for("A", 10.0, None),
        rows_for("B", 30.0, None)
    );
    csv = csv.replace("B,8,16,21\n", "");
    let files = Files::new(PLATFORM, &csv);
    let p = files.load().unwrap();
    let err = p
        .evaluate(&two_layers(), &[(16, 16), (16, 16)])
        .unwrap_err();
    match &err {
        HwError::MissingMeasurement {
            file,
            layer,
            weight_bits,
            activation_bits,
            ..
        } => {
            assert_eq!(file, &files.csv());
            assert_eq!(layer, "B");
            assert_eq!((*weight_bits, *activation_bits), (8, 16));
        }
        other => panic!("unexpected error {other}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("weights 8 bits / activations 16 bits"),
        "{text}"
    );
}

#[test]
fn a_layer_with_no_rows_and_an_unknown_layer_are_errors() {
    let csv = format!(
        "layer,weight_bits,activation_bits,latency_us\n{}",
        rows_for("A", 10.0, None)
    );
    let files = Files::new(PLATFORM, &csv);
    let err = files
        .load()
        .unwrap()
        .evaluate(&two_layers(), &[(16, 16), (16, 16)])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`B`") && err.contains("no row names the layer or its shape 5x20"),
        "{err}"
    );

    let csv = format!(
        "layer,weight_bits,activation_bits,latency_us\n{}{}{}",
        rows_for("A", 10.0, None),
        rows_for("B", 10.0, None),
        rows_for("C", 10.0, None)
    );
    let files = Files::new(PLATFORM, &csv);
    let err = files
        .load()
        .unwrap()
        .evaluate(&two_layers(), &[(16, 16), (16, 16)])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&files.csv()) && err.contains("line 10") && err.contains("`C`"),
        "{err}"
    );
    // Without shapes in the workload, shape rows cannot match: the error says so.
    let counts = Workload::from_counts("counts", [("A", 200, 200), ("B", 100, 100)]).unwrap();
    let csv = format!(
        "layer,weight_bits,activation_bits,latency_us\n{}{}",
        rows_for("A", 10.0, None),
        rows_for("5x20", 10.0, None)
    );
    let files = Files::new(PLATFORM, &csv);
    let err = files
        .load()
        .unwrap()
        .evaluate(&counts, &[(16, 16), (16, 16)])
        .unwrap_err()
        .to_string();
    assert!(err.contains("rows must name layers"), "{err}");
}

/// Each bad file fails to load with an error naming the CSV file, the line and the problem.
#[test]
fn bad_csv_files_name_the_file_and_the_line() {
    let good_header = "layer,weight_bits,activation_bits,latency_us";
    let cases: [(&str, String, &str, &str); 11] = [
        (
            "missing column",
            "layer,weight_bits,latency_us\nA,16,1\n".into(),
            "line 1",
            "no `activation_bits` column",
        ),
        (
            "unknown column",
            format!("{good_header},cycles\nA,16,16,1,3\n"),
            "line 1",
            "unknown column `cycles`",
        ),
        (
            "duplicate column",
            format!("{good_header},latency_us\nA,16,16,1,1\n"),
            "line 1",
            "`latency_us` appears twice",
        ),
        (
            "non-numeric latency",
            format!("{good_header}\nA,16,16,1\nA,8,8,fast\n"),
            "line 3",
            "latency_us `fast` is not a number",
        ),
        (
            "negative latency",
            format!("{good_header}\nA,16,16,-1\n"),
            "line 2",
            "negative",
        ),
        (
            "zero latency",
            format!("{good_header}\nA,16,16,0\n"),
            "line 2",
            "not positive",
        ),
        (
            "negative energy",
            format!("{good_header},energy_uj\nA,16,16,1,-0.5\n"),
            "line 2",
            "energy_uj -0.5 is negative",
        ),
        (
            "non-integer bits",
            format!("{good_header}\nA,16.5,16,1\n"),
            "line 2",
            "weight_bits `16.5` is not a whole number",
        ),
        (
            "width the platform does not run",
            format!("{good_header}\nA,4,16,1\n"),
            "line 2",
            "weight_bits 4 is not a width the platform runs",
        ),
        (
            "wrong field count",
            format!("{good_header}\nA,16,16\n"),
            "line 2",
            "3 fields, but the header has 4 columns",
        ),
        (
            "duplicate row",
            format!("{good_header}\nA,16,16,1\n20x10,16,16,1\nA,16,16,2\n"),
            "line 4",
            "already given on line 2",
        ),
    ];
    for (what, csv, line, reason) in cases {
        let files = Files::new(PLATFORM, &csv);
        let err = error_text(&files);
        assert!(
            err.contains(&files.csv()) && err.contains(line) && err.contains(reason),
            "{what}: {err}"
        );
    }
    let files = Files::new(PLATFORM, "# only a comment\n");
    assert!(error_text(&files).contains("no header line"));
    let files = Files::new(PLATFORM, &format!("{good_header}\n"));
    assert!(error_text(&files).contains("no rows"));
}

#[test]
fn the_table_section_is_checked_and_the_csv_path_is_relative_to_the_toml() {
    let files = Files::new(&PLATFORM.replace("[table]\nfile = \"costs.csv\"", ""), "");
    let err = error_text(&files);
    assert!(err.contains("`table`") && err.contains("missing"), "{err}");

    let files = Files::new(&PLATFORM.replace("costs.csv", "absent.csv"), "");
    let err = error_text(&files);
    assert!(
        err.contains("absent.csv") && err.contains("cannot read"),
        "{err}"
    );

    let files = Files::new(
        &format!("{PLATFORM}\n[analytic]\nprecision = []\n"),
        &format!(
            "layer,weight_bits,activation_bits,latency_us\n{}",
            rows_for("A", 1.0, None)
        ),
    );
    let err = error_text(&files);
    assert!(err.contains("`analytic`") && err.contains("given"), "{err}");

    // Loaded from another working directory, the CSV is still found beside the TOML.
    let csv = format!(
        "layer,weight_bits,activation_bits,latency_us\n{}{}",
        rows_for("A", 10.0, None),
        rows_for("B", 30.0, None)
    );
    let files = Files::new(PLATFORM, &csv);
    assert!(Path::new(&files.toml()).is_absolute());
    assert!(files.load().is_ok());
}

#[test]
fn the_shipped_example_loads_and_runs_the_default_models_layers() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../platforms/measured/example.toml"
    );
    let p = Platform::from_toml_file(path).unwrap_or_else(|e| panic!("{e}"));
    // sru-default: 23 → 4 × bi-SRU 128 (L0 has the highway block), projection 64, 117 classes.
    let layers = vec![
        MatrixLayer::fully_connected("L0", 23, 1024),
        MatrixLayer::fully_connected("L1", 64, 768),
        MatrixLayer::fully_connected("L2", 64, 768),
        MatrixLayer::fully_connected("L3", 64, 768),
        MatrixLayer::fully_connected("P1", 256, 64),
        MatrixLayer::fully_connected("P2", 256, 64),
        MatrixLayer::fully_connected("P3", 256, 64),
        MatrixLayer::fully_connected("FC", 256, 117),
    ];
    let w = Workload::new("sru-default", layers).unwrap();
    let base = p.evaluate(&w, &[(16, 16); 8]).unwrap();
    assert_eq!(base.speedup, 1.0);
    let low = p.evaluate(&w, &[(8, 8); 8]).unwrap();
    assert!(low.speedup.is_finite() && low.speedup > 0.0);
    assert!(low.latency_us_per_frame.unwrap() > 0.0);
}
