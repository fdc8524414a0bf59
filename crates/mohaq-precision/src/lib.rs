//! Precisions of a model's matrix layers and their encoding as the search's genes (METHOD §5.1).
//!
//! This crate is the one place that knows
//! - which widths exist ([`BitWidth`]: 2, 4, 8, 16; nothing else can be constructed),
//! - the gene order, derived from a model's [`LayerTable`] (the role of each matrix layer), so
//!   the paper's 16-gene SRU order, its 8 shared genes, and the layer tables of models with
//!   recurrent matrices (LSTM, GRU) all come from one rule ([`GeneCodec`]),
//! - the FC-activation rule (the output layer's input is never 2-bit, [`rule`]).
//!
//! It depends on no other mohaq crate, so the quantizers (mohaq-quant), the models (mohaq-sru),
//! the cost models (mohaq-hw) and the search (mohaq-beacon) all decode genes through it.

pub mod codec;
pub mod error;
pub mod layers;
pub mod rule;
pub mod width;

pub use codec::{GeneCodec, GeneLayout, GeneMeaning, Operand};
pub use error::{GeneError, InvalidBitWidth};
pub use layers::{LayerTable, LayerWidths, MatrixRole};
pub use width::BitWidth;
