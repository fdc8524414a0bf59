//! The SRU acoustic model and its speech front end.
//!
//! Front end: [`data`] (corpus readers, phone sets, splits, checks), [`features`] (Kaldi-style
//! filterbank, speaker normalisation, frame targets, feature cache, datasets) and [`decode`]
//! (Viterbi over a phone loop, greedy decoding, PER).
//! Model: [`model`] (SRU layers, configs, weights), [`train`] (training with candle, QAT) and
//! [`quantized`] (inference at per-layer bit widths on the integer kernels of mohaq-quant) and
//! [`deploy`] (the exported quantized-model files, recognition of one recording).

pub mod data;
pub mod decode;
pub mod deploy;
mod elementwise;
pub mod features;
pub mod model;
pub mod quantized;
pub mod rnn;
pub mod train;

// Only its `x86-v4` feature is wanted (see the workspace manifest): candle's training GEMMs then
// run the AVX-512 kernels where the CPU has them.
use gemm as _;
