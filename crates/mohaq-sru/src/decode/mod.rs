//! Decoding and scoring: Viterbi over a phone loop (with state priors and a phone bigram),
//! greedy decoding, PER / frame accuracy, and the tuning of the Viterbi parameters on dev.

pub mod bigram;
pub mod greedy;
pub mod priors;
pub mod score;
pub mod tuning;
pub mod viterbi;

pub use bigram::PhoneBigram;
pub use greedy::greedy_decode;
pub use priors::StatePriors;
pub use score::{align, ErrorCounts, FrameAccuracy};
pub use tuning::{tune_decoder, TuningGrid, TuningOutcome, TuningProgress, TuningUtterance};
pub use viterbi::{Decoder, DecoderParams};
