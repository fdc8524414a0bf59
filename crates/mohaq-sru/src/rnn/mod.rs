//! LSTM and GRU acoustic models beside the SRU: a user's own `torch.nn.LSTM` / `torch.nn.GRU`
//! stack with a `Linear` output, imported from a PyTorch state_dict, so that the search answers
//! "which width for which layer" for a model it did not train.
//!
//! - [`config`]: the `[model]` table with `kind = "lstm" | "gru"` (and [`Architecture`], which
//!   tells an SRU config from an LSTM/GRU one);
//! - [`layers`]: the matrix layers (input matrices `L`, recurrent matrices `R`, projections `P`,
//!   `FC`) from which the gene order and the hardware workload both come;
//! - [`params`]: the weights, under PyTorch's own tensor names;
//! - [`import`]: a PyTorch safetensors state_dict checked name by name and shape by shape;
//! - [`float`]: PyTorch's exact float semantics (the golden reference);
//! - [`graph`]: the same forward as a candle graph, which autograd trains;
//! - [`quantized`]: inference at per-layer widths, products on mohaq-quant's integer kernels
//!   (the recurrent product once per time step), elementwise work in 16-bit fixed point;
//! - [`bundle`]: weights plus decoder statistics in one file, the same format family as
//!   [`crate::model::ModelBundle`];
//! - [`evaluator`]: the PER of a candidate on a dataset, as the search calls it;
//! - [`matrix_file`]: feature matrices from CSV or `.npy`, log-probabilities to CSV
//!   (`mohaq forward`).

pub mod bundle;
pub mod config;
pub mod error;
pub mod evaluator;
pub mod float;
pub mod graph;
pub mod import;
pub mod layers;
pub mod matrix_file;
pub mod params;
pub mod quantized;

pub use bundle::RnnBundle;
pub use config::{Architecture, RnnConfig, RnnKind, TensorNames};
pub use error::RnnError;
pub use evaluator::RnnEvaluator;
pub use layers::{RnnLayer, RnnLayerKind};
pub use params::{DirectionParams, RnnParams};
pub use quantized::RnnQuantized;
