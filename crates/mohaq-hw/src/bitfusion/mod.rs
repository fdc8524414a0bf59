//! Cycle-level Bit Fusion model (HARDWARE.md §4), a reimplementation of the model in the Bit Fusion
//! authors' public simulator for fully connected layers, with 16-bit operands handled explicitly.

mod config;
mod fusion;
mod layer;
mod reference_row;
mod search;
mod simulator;
mod tiling;

pub use config::{BitFusionConfig, EnergyNj};
pub use fusion::Fusion;
pub use layer::{FcLayer, MAX_BATCH, MAX_BITS, MAX_DIMENSION};
pub use reference_row::ReferenceRow;
pub use search::{evaluate_schedule, search_layer, LayerReport};
pub use simulator::{BitFusionSim, SequenceReport};
pub use tiling::{
    Dataflow, EnergyBreakdown, LayerCounters, LoopDim, LoopOrder, Tiling, PARTIAL_SUM_BITS,
};
