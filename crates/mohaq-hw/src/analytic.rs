//! The paper's analytic cost models (HARDWARE.md §2, §3) as a per-precision table: each allowed
//! (weight bits, activation bits) pair has a speedup over 16-bit and, optionally, an energy per
//! MAC. SiLago and the paper's Bit Fusion are two such tables (shipped as platform files); the
//! closed-form formulas they come from are kept here so that tests can check the files.

use serde::Serialize;

/// SiLago's per-layer speedup over 16 bits at shared precision `bits`: 16/bits (1, 2, 4).
pub fn silago_paper_speedup(bits: u32) -> f64 {
    16.0 / f64::from(bits)
}

/// SiLago's energy per MAC in pJ at shared precision `bits` (`None` for widths it cannot run).
pub fn silago_paper_mac_energy_pj(bits: u32) -> Option<f64> {
    match bits {
        16 => Some(1.666),
        8 => Some(1.084 / 2.0),
        4 => Some(0.613 / 4.0),
        _ => None,
    }
}

/// SiLago's SRAM read energy per model bit and frame, in pJ.
pub const SILAGO_MEMORY_PJ_PER_BIT: f64 = 0.08;

/// The paper's Bit Fusion speedup of a layer over 16×16 bits: min(64, 256/(w·a)).
pub fn bitfusion_paper_speedup(weight_bits: u32, activation_bits: u32) -> f64 {
    (256.0 / f64::from(weight_bits * activation_bits)).min(64.0)
}

/// One row of an analytic table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PrecisionCost {
    pub weight_bits: u32,
    pub activation_bits: u32,
    /// Throughput relative to the 16-bit baseline.
    pub speedup: f64,
    /// Energy of one MAC at this precision, in pJ.
    pub mac_energy_pj: Option<f64>,
}

/// A table-driven analytic model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AnalyticModel {
    table: Vec<PrecisionCost>,
    memory_energy_pj_per_bit: Option<f64>,
    speedup_divisor: f64,
}

impl AnalyticModel {
    /// A model from validated parts (see the platform loader for the checks). Energy is modelled
    /// only when every row has a MAC energy and the memory energy is given.
    pub(crate) fn new(
        table: Vec<PrecisionCost>,
        memory_energy_pj_per_bit: Option<f64>,
        speedup_divisor: f64,
    ) -> Self {
        AnalyticModel {
            table,
            memory_energy_pj_per_bit,
            speedup_divisor,
        }
    }

    pub fn table(&self) -> &[PrecisionCost] {
        &self.table
    }

    /// The row of a precision pair, if the table has one.
    pub fn lookup(&self, weight_bits: u32, activation_bits: u32) -> Option<&PrecisionCost> {
        self.table
            .iter()
            .find(|r| r.weight_bits == weight_bits && r.activation_bits == activation_bits)
    }

    /// pJ per stored model bit read once per frame, when the model has an energy objective.
    pub fn memory_energy_pj_per_bit(&self) -> Option<f64> {
        self.memory_energy_pj_per_bit
    }

    /// The extra divisor some of the authors' Bit Fusion scripts applied to the paper's speedup
    /// (1 when not used). It applies to the paper mode only.
    pub fn speedup_divisor(&self) -> f64 {
        self.speedup_divisor
    }
}
