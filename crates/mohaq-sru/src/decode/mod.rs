//! Decoding and scoring: Viterbi over a phone loop (with state priors and a phone bigram),
//! greedy decoding, and PER / frame accuracy.

pub mod bigram;
pub mod greedy;
pub mod priors;
pub mod score;
pub mod viterbi;

pub use bigram::PhoneBigram;
pub use greedy::greedy_decode;
pub use priors::StatePriors;
pub use score::{align, ErrorCounts, FrameAccuracy};
pub use viterbi::{Decoder, DecoderParams};
