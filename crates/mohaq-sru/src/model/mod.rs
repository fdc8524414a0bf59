//! The SRU acoustic model of METHOD §3: configuration ([`config`]), the matrix-layer table in the
//! paper's gene order ([`layers`]), the parameters with their safetensors format ([`params`]),
//! the elementwise recurrence as one candle custom op with a hand-written backward pass
//! ([`recurrence`]) and the differentiable candle network used for training ([`network`]).

pub mod bundle;
pub mod config;
pub mod error;
pub mod layers;
pub mod network;
pub mod params;
pub mod recurrence;

pub use bundle::ModelBundle;
pub use config::ModelConfig;
pub use error::ModelError;
pub use layers::{LayerKind, MatrixLayer};
pub use network::{ForwardOptions, SruNetwork};
pub use params::{ModelParams, SruLayerParams};
