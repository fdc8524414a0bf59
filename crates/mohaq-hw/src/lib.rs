//! Hardware cost models for mixed-precision quantization: the paper's analytic SiLago and Bit
//! Fusion models, a cycle-level Bit Fusion model validated against the Bit Fusion authors'
//! simulator, and platforms described as TOML files.
//!
//! The usual entry point is [`Platform::from_toml_file`] then [`Platform::evaluate`] on a
//! [`Workload`] with one `(weight bits, activation bits)` pair per layer. Bit widths are plain
//! `u32`s checked against the platform's allowed widths, so this crate depends on no other
//! mohaq crate.

pub mod analytic;
pub mod bitfusion;
mod cost;
mod error;
pub mod measured;
mod platform;
mod share;
mod toml_io;
pub mod workload;

pub use cost::{
    bits_to_mb, model_size_bits, paper_speedup, physical_speedup, Cost, LayerCost,
    SimulationTotals, SpeedupMode,
};
pub use error::HwError;
pub use platform::{CostModel, Extremes, Platform, Shares, BASELINE_BITS};
pub use share::ShareOfMaximum;
pub use workload::{bits_from_tokens, paper_sru_bits_from_genes, MatrixLayer, Workload};
