//! The shipped analytic platforms reproduce every number of HARDWARE.md §1–§3 and hand-computed
//! mixed-precision cases.

use mohaq_hw::analytic::{
    bitfusion_paper_speedup, silago_paper_mac_energy_pj, silago_paper_speedup,
};
use mohaq_hw::{CostModel, Platform, SpeedupMode, Workload};

fn platform(file: &str) -> Platform {
    let path = format!("{}/../../platforms/{file}", env!("CARGO_MANIFEST_DIR"));
    Platform::from_toml_file(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// `value` printed with as many decimals as `printed` has equals `printed`.
fn rounds_to(value: f64, printed: &str) -> bool {
    let decimals = printed.split_once('.').map_or(0, |(_, f)| f.len());
    format!("{value:.decimals$}") == printed
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

#[test]
fn model_sizes_of_uniform_widths() {
    // METHOD.md §4.4: 16 → 10.60 MB, 8 → 5.31, 4 → 2.66, 2 → 1.34.
    let bf = platform("bitfusion.toml");
    let w = Workload::paper_sru();
    for (bits, printed) in [(16, "10.60"), (8, "5.31"), (4, "2.66"), (2, "1.34")] {
        let cost = bf.evaluate(&w, &[(bits, bits); 8]).unwrap();
        assert!(rounds_to(cost.size_mb, printed), "{bits}: {}", cost.size_mb);
    }
}

#[test]
fn silago_uniform_values() {
    let p = platform("silago.toml");
    let w = Workload::paper_sru();
    let expected = [
        (16, "0.9844", "16.360"),
        (8, "1.9688", "6.571"),
        (4, "3.9376", "2.638"),
    ];
    for (bits, speedup, energy) in expected {
        let cost = p.evaluate(&w, &[(bits, bits); 8]).unwrap();
        assert_eq!(cost.speedup_mode, SpeedupMode::Paper);
        assert!(rounds_to(cost.speedup, speedup), "{bits}: {}", cost.speedup);
        let e = cost.energy_uj_per_frame.unwrap();
        assert!(rounds_to(e, energy), "{bits}: {e}");
        // Uniform widths: every layer runs at the same speed, so the latency ratio is s itself.
        assert!(close(cost.speedup_physical, 16.0 / f64::from(bits)));
    }
    // The 16-bit energy splits into 7.1146 µJ of memory and 9.2455 µJ of MACs.
    let cost = p.evaluate(&w, &[(16, 16); 8]).unwrap();
    let mac_uj = 5_549_500.0 * 1.666 / 1e6;
    assert!(rounds_to(mac_uj, "9.2455"));
    assert!(rounds_to(
        cost.energy_uj_per_frame.unwrap() - mac_uj,
        "7.1146"
    ));
    // 10.60 MB fails the 6 MB limit, 5.31 MB meets it.
    assert!(!cost.fits_memory);
    assert!(p.evaluate(&w, &[(8, 8); 8]).unwrap().fits_memory);
}

#[test]
fn silago_mixed_by_hand() {
    // L0..L3 at 8, P1..P3 at 4, FC at 16.
    // MACs: L = 75,900 + 3·844,800 = 2,610,300; P = 844,800; FC = 2,094,400.
    // paper    = (2,610,300·2 + 844,800·4 + 2,094,400·1) / 5,637,500 = 10,694,200 / 5,637,500
    // physical = 5,549,500 / (2,610,300/2 + 844,800/4 + 2,094,400) = 5,549,500 / 3,610,750
    // size     = 2,610,300·8 + 844,800·4 + 2,094,400·16 + 8,800·16 = 57,912,800 bits = 6.9037 MB
    // energy   = 57,912,800·0.08 + 2,610,300·0.542 + 844,800·0.15325 + 2,094,400·1.666
    //          = 4,633,024 + 1,414,782.6 + 129,465.6 + 3,489,270.4 = 9,666,542.6 pJ
    let p = platform("silago.toml");
    let bits = [
        (8, 8),
        (8, 8),
        (8, 8),
        (8, 8),
        (4, 4),
        (4, 4),
        (4, 4),
        (16, 16),
    ];
    let cost = p.evaluate(&Workload::paper_sru(), &bits).unwrap();
    assert!(close(cost.speedup, 10_694_200.0 / 5_637_500.0));
    assert!(close(cost.speedup_physical, 5_549_500.0 / 3_610_750.0));
    assert!(close(cost.size_mb, 57_912_800.0 / 8.0 / 1_048_576.0));
    assert!(!cost.fits_memory);
    assert!(close(cost.energy_uj_per_frame.unwrap(), 9.6665426));
    // Per-layer energy of FC: 2,094,400·16·0.08 + 2,094,400·1.666 pJ.
    let fc = &cost.layers[7];
    assert_eq!(fc.name, "FC");
    assert!(close(
        fc.energy_uj.unwrap(),
        (2_094_400.0 * 16.0 * 0.08 + 3_489_270.4) / 1e6
    ));
}

#[test]
fn silago_rejects_what_it_cannot_run() {
    let p = platform("silago.toml");
    let w = Workload::paper_sru();
    let mut bits = [(8, 8); 8];
    bits[2] = (2, 2);
    let err = p.evaluate(&w, &bits).unwrap_err().to_string();
    assert!(
        err.contains("L2") && err.contains("weight widths allowed"),
        "{err}"
    );
    bits[2] = (8, 4);
    let err = p.evaluate(&w, &bits).unwrap_err().to_string();
    assert!(err.contains("share one width"), "{err}");
    assert!(p.evaluate(&w, &bits[..7]).is_err());
}

#[test]
fn bitfusion_uniform_values() {
    let p = platform("bitfusion.toml");
    let w = Workload::paper_sru();
    for (bits, printed) in [(16, "0.9844"), (8, "3.9376"), (4, "15.750"), (2, "63.0")] {
        let cost = p.evaluate(&w, &[(bits, bits); 8]).unwrap();
        assert!(rounds_to(cost.speedup, printed), "{bits}: {}", cost.speedup);
        assert_eq!(cost.energy_uj_per_frame, None);
    }
    assert!(!p.has_energy());
    assert!(p.evaluate(&w, &[(2, 2); 8]).unwrap().fits_memory);
    assert!(!p.evaluate(&w, &[(4, 4); 8]).unwrap().fits_memory);
}

#[test]
fn bitfusion_table_is_the_paper_formula() {
    let p = platform("bitfusion.toml");
    let CostModel::Analytic(model) = p.cost_model() else {
        panic!("analytic expected")
    };
    assert_eq!(model.table().len(), 16);
    for row in model.table() {
        assert_eq!(
            row.speedup,
            bitfusion_paper_speedup(row.weight_bits, row.activation_bits)
        );
    }
    let p = platform("silago.toml");
    let CostModel::Analytic(model) = p.cost_model() else {
        panic!("analytic expected")
    };
    for row in model.table() {
        assert_eq!(row.speedup, silago_paper_speedup(row.weight_bits));
        assert_eq!(
            row.mac_energy_pj,
            silago_paper_mac_energy_pj(row.weight_bits)
        );
    }
}

#[test]
fn bitfusion_mixed_by_hand() {
    // L0 w8/a8 (s 4), L1..L3 w2/a4 (s 32), P1..P3 w4/a4 (s 16), FC w4/a8 (s 8).
    // paper    = (75,900·4 + 2,534,400·32 + 844,800·16 + 2,094,400·8) / 5,637,500
    //          = 111,676,400 / 5,637,500 = 19.8096
    // physical = 5,549,500 / (18,975 + 79,200 + 52,800 + 261,800) = 5,549,500 / 412,775
    // size     = 607,200 + 5,068,800 + 3,379,200 + 8,377,600 + 140,800 = 17,573,600 bits
    //          = 2.0949 MB > 2 MB
    let p = platform("bitfusion.toml");
    let bits = [
        (8, 8),
        (2, 4),
        (2, 4),
        (2, 4),
        (4, 4),
        (4, 4),
        (4, 4),
        (4, 8),
    ];
    let cost = p.evaluate(&Workload::paper_sru(), &bits).unwrap();
    assert!(close(cost.speedup_paper, 111_676_400.0 / 5_637_500.0));
    assert!(close(cost.speedup_physical, 5_549_500.0 / 412_775.0));
    assert!(close(cost.size_mb, 17_573_600.0 / 8.0 / 1_048_576.0));
    assert!(!cost.fits_memory);
    // The arithmetic mean overstates the latency ratio.
    assert!(cost.speedup_paper > cost.speedup_physical);
}

#[test]
fn extra_divisor_and_physical_objective_are_configurable() {
    let path = format!(
        "{}/../../platforms/bitfusion.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let halved =
        Platform::from_toml_str(&text.replace("speedup_divisor = 1.0", "speedup_divisor = 2.0"))
            .unwrap();
    let cost = halved
        .evaluate(&Workload::paper_sru(), &[(2, 2); 8])
        .unwrap();
    assert!(rounds_to(cost.speedup, "31.5"));
    // The divisor is a quirk of the paper's formula; the latency ratio ignores it.
    assert!(close(cost.speedup_physical, 64.0));

    let physical = Platform::from_toml_str(&text.replace(
        "speedup_objective = \"paper\"",
        "speedup_objective = \"physical\"",
    ))
    .unwrap();
    let cost = physical
        .evaluate(&Workload::paper_sru(), &[(16, 16); 8])
        .unwrap();
    assert_eq!(cost.speedup_mode, SpeedupMode::Physical);
    assert!(close(cost.speedup, 1.0));
}

#[test]
fn share_of_maximum_both_readings() {
    let p = platform("silago.toml");
    let w = Workload::paper_sru();
    let ex = p.extremes(&w).unwrap();
    assert!(rounds_to(ex.baseline.speedup, "0.9844"));
    assert!(rounds_to(ex.fastest.speedup, "3.9376"));
    assert!(rounds_to(
        ex.least_energy
            .as_ref()
            .unwrap()
            .energy_uj_per_frame
            .unwrap(),
        "2.638"
    ));

    // All-8: speedup of gain (1.9688 − 0.9844)/(3.9376 − 0.9844) = 1/3, of best 1/2;
    // energy of gain (16.360 − 6.571)/(16.360 − 2.638), of best 2.638/6.571.
    let cost = p.evaluate(&w, &[(8, 8); 8]).unwrap();
    let shares = p.share_of_maximum(&w, &cost).unwrap();
    assert!(close(shares.speedup.of_gain, 1.0 / 3.0));
    assert!(close(shares.speedup.of_best, 0.5));
    let e = shares.energy.unwrap();
    // E_16 = 7,114,624 + 9,245,467 pJ; E_8 = 3,562,944 + 3,007,829; E_4 = 1,787,104 + 850,460.875.
    let (e16, e8, e4) = (16.360_091, 6.570_773, 2.637_564_875);
    assert!((e.of_gain - (e16 - e8) / (e16 - e4)).abs() < 1e-9, "{e:?}");
    assert!((e.of_best - e4 / e8).abs() < 1e-9, "{e:?}");

    // Bit Fusion has no energy: no energy share.
    let bf = platform("bitfusion.toml");
    let cost = bf.evaluate(&w, &[(2, 2); 8]).unwrap();
    let shares = bf.share_of_maximum(&w, &cost).unwrap();
    assert!(close(shares.speedup.of_gain, 1.0));
    assert!(shares.energy.is_none());
}
