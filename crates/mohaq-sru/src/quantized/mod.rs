//! Quantized inference at per-layer (weight, activation) bit widths in the paper's gene order
//! ([`bits`]), on the integer kernels of mohaq-quant with the recurrence in 16-bit fixed point
//! ([`engine`], [`fixed`]), and the candidate evaluator the search calls ([`evaluator`]).

pub mod bits;
pub mod calibration;
pub mod engine;
pub mod error;
pub mod evaluator;
pub mod fixed;
mod log_softmax;
pub mod prefix_cache;

pub use bits::{BitConfig, GeneError, LayerWidths};
pub use engine::{ActivationMode, QuantizedModel, StepState};
pub use error::QuantizedError;
pub use evaluator::{EvalResult, EvalUtterance, FrozenActivations, QuantizedEvaluator};
pub use prefix_cache::{PrefixCache, ReuseStats};
