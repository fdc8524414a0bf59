//! Training of the SRU, LSTM and GRU models (one loop, [`kind`]) with candle on the CPU: Adam with newbob halving, dropout, length
//! curriculum, similar-length batches, per-epoch dev scores, atomic checkpoints with resume
//! ([`trainer`]); quantization-aware fine-tuning for the beacons ([`qat`]); decoder tuning of a
//! trained model on dev posteriors ([`tune`]).

pub mod adam;
mod allocation;
pub mod batching;
pub mod checkpoint;
pub mod config;
pub mod error;
pub mod evaluate;
pub mod fisher;
pub mod kind;
pub mod loss;

pub use batching::SequenceRef;
pub use checkpoint::{EpochSummary, TrainState};
pub use config::TrainConfig;
pub use error::TrainError;
pub mod trainer;

pub use trainer::{train, BatchProgress, SilentObserver, TrainObserver, TrainOutcome, TrainRun};
pub mod pipeline;
pub use kind::{TrainableConfig, TrainableNetwork};
pub use pipeline::{
    train_any_from_config, train_from_config, AnyTrainReport, PipelineOptions, TrainReport,
};
pub mod dump;
pub mod qat;
pub mod tune;
