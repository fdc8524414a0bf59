//! The paper's figures this project compares against (METHOD §2, §4.4; HARDWARE §2-3) and the
//! authors' mixed configurations M1-M15 (issue 7), kept in one place so the report cites them
//! from here.

use mohaq_beacon::genes::LayerBits;

/// The recipe's float PER on TIMIT core test (pytorch-kaldi README).
pub const FLOAT_PER: f64 = 16.6;
/// QAT epochs the authors retrained each beacon for.
pub const BEACON_EPOCHS: usize = 20;
/// FP32 size of the paper model (MB).
pub const FP32_SIZE_MB: f64 = 21.2;
/// Uniform widths and the paper's sizes (MB).
pub const UNIFORM_SIZES_MB: [(u32, f64); 4] = [(16, 10.60), (8, 5.31), (4, 2.66), (2, 1.34)];
/// SiLago paper speedups of uniform models.
pub const SILAGO_SPEEDUP: [(u32, f64); 3] = [(16, 0.9844), (8, 1.9688), (4, 3.9376)];
/// SiLago energy per frame (µJ) of uniform models.
pub const SILAGO_ENERGY_UJ: [(u32, f64); 3] = [(16, 16.360), (8, 6.571), (4, 2.638)];
/// Bit Fusion paper speedups of uniform models.
pub const BITFUSION_SPEEDUP: [(u32, f64); 4] = [(16, 0.9844), (8, 3.9376), (4, 15.750), (2, 63.0)];

/// Headline claims (abstract v3, v1 in brackets).
pub const CLAIM_COMPRESSION_X: f64 = 8.0;
pub const CLAIM_COMPRESSION_V1_X: f64 = 12.0;
pub const CLAIM_COMPRESSION_V1_PP: f64 = 1.5;
pub const CLAIM_SILAGO_SPEEDUP_SHARE: f64 = 0.97;
pub const CLAIM_SILAGO_ENERGY_SHARE: f64 = 0.86;
pub const CLAIM_BEACON_GAIN_PP: f64 = 4.9;
pub const CLAIM_BEACON_GAIN_V1_PP: f64 = 4.0;
pub const CLAIM_BITFUSION_SPEEDUP_V1: f64 = 47.0;

/// The authors' mixed configurations in the paper's 16-gene order.
pub const MIXED: [(&str, [u32; 16]); 15] = [
    (
        "M1",
        [16, 2, 2, 2, 16, 16, 16, 16, 16, 2, 2, 16, 16, 16, 16, 16],
    ),
    (
        "M2",
        [16, 2, 2, 2, 16, 16, 16, 16, 16, 2, 2, 16, 16, 16, 4, 4],
    ),
    (
        "M3",
        [16, 2, 2, 2, 16, 4, 4, 4, 16, 2, 2, 16, 16, 16, 16, 16],
    ),
    (
        "M4",
        [16, 2, 2, 2, 16, 16, 16, 16, 16, 2, 2, 16, 4, 4, 16, 16],
    ),
    (
        "M5",
        [16, 2, 2, 2, 16, 16, 16, 16, 2, 2, 2, 16, 16, 16, 2, 16],
    ),
    (
        "M6",
        [2, 2, 2, 2, 16, 16, 16, 16, 2, 2, 2, 16, 16, 16, 2, 16],
    ),
    ("M7", [8, 4, 4, 4, 8, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4]),
    ("M8", [8, 2, 2, 2, 8, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4]),
    ("M9", [8, 4, 4, 4, 8, 4, 4, 4, 4, 2, 2, 4, 4, 4, 4, 4]),
    ("M10", [4, 2, 2, 2, 8, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4]),
    ("M11", [8, 4, 4, 4, 8, 4, 4, 4, 2, 2, 2, 4, 4, 4, 4, 4]),
    ("M12", [8, 4, 4, 4, 8, 4, 4, 4, 4, 2, 2, 4, 4, 4, 2, 4]),
    ("M13", [8, 2, 2, 2, 8, 4, 4, 4, 2, 2, 2, 4, 4, 4, 4, 4]),
    ("M14", [8, 2, 2, 2, 8, 4, 4, 4, 4, 2, 2, 4, 4, 4, 2, 4]),
    ("M15", [4, 2, 2, 2, 4, 4, 4, 4, 4, 2, 2, 4, 4, 4, 2, 4]),
];

/// The E0 table's rows: uniform 16/8/4/2 (FC input at least 4), then M1-M15.
pub fn ptq_table_configs() -> Vec<(String, LayerBits)> {
    let mut rows: Vec<(String, LayerBits)> = [16, 8, 4, 2]
        .iter()
        .map(|&b| (format!("uniform {b}"), LayerBits::uniform(b).with_fc_rule()))
        .collect();
    for (name, genes) in MIXED {
        // The table is built from constants checked by the test below.
        if let Ok(bits) = LayerBits::from_paper_genes(&genes) {
            rows.push((name.to_string(), bits));
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_configuration_is_valid_and_the_variants_differ_as_described() {
        let rows = ptq_table_configs();
        assert_eq!(rows.len(), 19);
        let get = |n: &str| rows.iter().find(|(name, _)| name == n).unwrap().1;
        // M2 = M1 with FC w/a = 4/4.
        let (m1, m2) = (get("M1"), get("M2"));
        assert_eq!(m1.weight[..7], m2.weight[..7]);
        assert_eq!((m2.weight[7], m2.activation[7]), (4, 4));
        // M6 = M5 with L0 weight 2.
        let (m5, m6) = (get("M5"), get("M6"));
        assert_eq!(m6.weight[0], 2);
        assert_eq!(m5.weight[1..], m6.weight[1..]);
        assert_eq!(m5.activation, m6.activation);
        // Uniform 2 keeps the FC input at 4.
        assert_eq!(get("uniform 2").activation[7], 4);
    }
}
