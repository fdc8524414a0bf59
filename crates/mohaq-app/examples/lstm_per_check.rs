//! Is an imported model's PER under mohaq PyTorch's PER? Decodes PyTorch's log-probabilities of
//! the dev dump (written by `fixtures/lstm_gru/train_small_lstm.py`) with the bundle's decoder,
//! and compares with mohaq's float forward of the same bundle on the same dump features.
//!
//! ```text
//! cargo run --release -p mohaq-app --example lstm_per_check -- \
//!     BUNDLE.safetensors DUMP_DIR/dev.bin OUT/dev_logprobs.safetensors
//! ```
//! Prints both PERs and the largest log-probability difference.

use std::path::PathBuf;

use mohaq_app::rnn_model::load_rnn_bundle;
use mohaq_sru::model::params::read_tensors;
use mohaq_sru::rnn::{float, RnnEvaluator};
use mohaq_sru::train::dump::read_dump;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [bundle, dump, logprobs] = args.as_slice() else {
        return Err("usage: lstm_per_check BUNDLE DEV_DUMP LOGPROBS".into());
    };
    let bundle = load_rnn_bundle(bundle)?
        .ok_or_else(|| format!("{}: not an LSTM/GRU bundle", bundle.display()))?;
    let dev = read_dump(dump)?;
    let (tensors, _) = read_tensors(logprobs)?;
    let (_, torch_lp) = tensors
        .get("log_probs")
        .ok_or_else(|| format!("{}: no tensor `log_probs`", logprobs.display()))?;
    let evaluator = RnnEvaluator::from_bundle(&bundle, &dev)?;
    let torch = evaluator.score_log_probs(torch_lp)?;
    let mohaq = evaluator.evaluate_float()?;
    let dim = bundle.params.config.input_dim;
    let mut offset = 0;
    let mut max_diff = 0f32;
    for u in &dev.utterances {
        let frames = u.feats.len() / dim;
        let lp = float::forward(&bundle.params, &u.feats, frames)?;
        for (a, b) in lp.iter().zip(&torch_lp[offset..offset + lp.len()]) {
            max_diff = max_diff.max((a - b).abs());
        }
        offset += lp.len();
    }
    println!(
        "{} dev utterances, {} frames\nPER of PyTorch's log-probs (mohaq decoder): {:.4} %\n\
         PER of mohaq's float forward:              {:.4} %\n\
         frame accuracy: PyTorch {:.4}, mohaq {:.4}\nmax |Δ log-prob| = {max_diff:.3e}",
        mohaq.utterances, mohaq.frames, torch.per, mohaq.per, torch.frame_acc, mohaq.frame_acc
    );
    Ok(())
}
