//! The result of costing a workload at given bit widths, and the formulas shared by all models:
//! model size and the two ways of turning per-layer speedups into one number.

use crate::workload::{Workload, ELEMENTWISE_BITS};
use serde::{Deserialize, Serialize};

/// Which speedup a platform reports as its objective.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpeedupMode {
    /// The paper's formula: the MAC-weighted arithmetic mean Σ N_l·s_l / normaliser. It
    /// reproduces the paper's numbers but is not a latency ratio.
    Paper,
    /// The latency ratio: baseline time / time, i.e. Σ N_l / Σ (N_l / s_l) for the analytic
    /// models (a harmonic mean) and Σ cycles_16 / Σ cycles for the simulation.
    Physical,
}

/// Cost of one layer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerCost {
    pub name: String,
    pub weight_bits: u32,
    pub activation_bits: u32,
    pub weights: u64,
    pub macs: u64,
    /// This layer's speedup over running it at 16 bits.
    pub speedup: f64,
    /// Bits its weights occupy.
    pub size_bits: u64,
    /// Energy per frame in µJ (MACs plus reading its weights for SiLago; the simulated energy
    /// for Bit Fusion), when the model has energy.
    pub energy_uj: Option<f64>,
    /// Simulated cycles per frame (cycle-level model only).
    pub cycles_per_frame: Option<f64>,
    /// Latency per frame in µs (measured-table model only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_us: Option<f64>,
}

/// Totals of a cycle-level simulation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SimulationTotals {
    /// Frames processed together by every layer.
    pub batch: u64,
    pub cycles_per_batch: u64,
    /// The same workload with every operand at 16 bits.
    pub baseline_cycles_per_batch: u64,
    pub cycles_per_frame: f64,
    pub microseconds_per_frame: f64,
    pub energy_uj_per_frame: f64,
    pub frequency_mhz: f64,
}

impl SimulationTotals {
    /// Latency (µs) and energy (µJ) of an utterance of `frames` frames, run as
    /// `ceil(frames / batch)` batches (a last partial batch costs a full one).
    pub fn per_utterance(&self, frames: u64) -> (f64, f64) {
        let batches = frames.div_ceil(self.batch) as f64;
        (
            batches * self.cycles_per_batch as f64 / self.frequency_mhz,
            batches * self.energy_uj_per_frame * self.batch as f64,
        )
    }
}

/// Cost of a workload on a platform.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cost {
    /// The objective: `speedup_paper` or `speedup_physical`, as the platform file chooses.
    pub speedup: f64,
    pub speedup_mode: SpeedupMode,
    pub speedup_paper: f64,
    pub speedup_physical: f64,
    /// Energy per frame in µJ, when the platform models energy.
    pub energy_uj_per_frame: Option<f64>,
    pub size_mb: f64,
    pub memory_limit_mb: f64,
    pub fits_memory: bool,
    pub layers: Vec<LayerCost>,
    /// Present for the cycle-level model.
    pub simulation: Option<SimulationTotals>,
    /// Σ of the layers' latencies per frame in µs (measured-table model only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_us_per_frame: Option<f64>,
}

/// Model size in bits: Σ w_l·N_l plus the elementwise parameters at 16 bits (HARDWARE.md §1).
pub fn model_size_bits(workload: &Workload, weight_bits: impl IntoIterator<Item = u32>) -> u64 {
    let matrices: u64 = workload
        .layers()
        .iter()
        .zip(weight_bits)
        .map(|(l, w)| l.weights * u64::from(w))
        .sum();
    matrices + workload.elementwise_params() * u64::from(ELEMENTWISE_BITS)
}

/// Bits → MB (2^20 bytes), as the paper counts.
pub fn bits_to_mb(bits: u64) -> f64 {
    bits as f64 / 8.0 / 1_048_576.0
}

/// The paper's speedup: Σ N_l·s_l / normaliser (N_l = MACs), divided by `divisor`.
pub fn paper_speedup(workload: &Workload, speedups: &[f64], divisor: f64) -> f64 {
    let weighted: f64 = workload
        .layers()
        .iter()
        .zip(speedups)
        .map(|(l, s)| l.macs as f64 * s)
        .sum();
    weighted / workload.normaliser() as f64 / divisor
}

/// The analytic latency ratio Σ N_l / Σ (N_l / s_l) over the matrix layers.
pub fn physical_speedup(workload: &Workload, speedups: &[f64]) -> f64 {
    let (work, time) = workload
        .layers()
        .iter()
        .zip(speedups)
        .fold((0.0, 0.0), |(work, time), (l, s)| {
            (work + l.macs as f64, time + l.macs as f64 / s)
        });
    work / time
}
