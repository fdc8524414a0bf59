//! The MOHAQ application: everything that ties the model-agnostic search of mohaq-beacon to the
//! real SRU and to the paper.
//!
//! - [`byom`]: bring your own model: a PyTorch LSTM/GRU imported (`mohaq import`), its
//!   log-probabilities on a feature matrix (`mohaq forward`) and its PER (`mohaq eval`);
//! - [`sru_model`]: mohaq-sru's SRU behind mohaq-beacon's `ErrorModel` and `Retrainer`;
//! - [`rnn_model`]: an LSTM/GRU bundle behind `ErrorModel` (PTQ search; no beacons yet), and
//!   [`search_model`]: whichever of the two an experiment's model file holds;
//! - [`export`]: a chosen front solution as a quantized model file (the format and recognition
//!   with it are mohaq-sru's `deploy`);
//! - [`reproduce`] (E0–E3 on any error model), [`sru_reproduce`] (on the SRU), [`hardware`] (E4),
//!   [`paper`] (the paper's figures), [`report`] and [`plot`]: `results/REPORT.md`;
//!   [`lstm_reproduce`]: the LSTM searches and their section of the report;
//! - [`decoder_tuning`]: `mohaq tune-decoder`, the Viterbi parameters of a model file tuned on dev;
//! - [`exhaustive`]: the exhaustive true front of a small space through any executor;
//! - [`worker`]: `mohaq worker`, one task of a batch the Slurm executor submitted, and the
//!   dispatch of a run under an `[executor]` setting;
//! - [`logging`] and [`progress`]: the log set-up and the progress display the `mohaq` binary
//!   and `cargo xtask` share.
//!
//! The binaries only parse arguments and print; what they do is here.

pub mod byom;
pub mod decoder_tuning;
pub mod exhaustive;
pub mod export;
pub mod hardware;
pub mod logging;
pub mod lstm_reproduce;
pub mod model_comparison;
pub mod paper;
pub mod plot;
pub mod progress;
pub mod report;
pub mod reproduce;
pub mod retrain_log;
pub mod rnn_model;
pub mod search_model;
pub mod search_quality;
pub mod sru_model;
pub mod sru_reproduce;
pub mod worker;
