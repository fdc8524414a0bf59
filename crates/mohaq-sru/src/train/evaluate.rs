//! Float evaluation of the candle network on a set of sequences: loss, frame accuracy and the
//! per-utterance log posteriors that a decoder turns into phones (any model kind).

use std::sync::Arc;

use candle_core::{Device, Tensor, D};

use super::batching::{Batch, Chunk, SequenceRef};
use super::error::TrainError;
use super::kind::TrainableNetwork;
use super::loss::CrossEntropy;
use crate::model::network::MatrixHook;
use crate::model::ForwardOptions;

/// Result of a float evaluation pass.
pub struct FloatEval {
    pub loss: f64,
    pub frame_acc: f64,
    /// Log posteriors per sequence, `frames × classes` row-major, in input order.
    pub log_posteriors: Vec<Vec<f32>>,
}

/// Runs the network in evaluation mode (no dropout) over whole sequences, batched by length.
pub fn evaluate_float<N: TrainableNetwork>(
    net: &N,
    seqs: &[SequenceRef<'_>],
    hook: Option<&dyn MatrixHook>,
    batch_size: usize,
) -> Result<FloatEval, TrainError> {
    let classes = net.classes();
    let mut order: Vec<usize> = (0..seqs.len()).collect();
    order.sort_by_key(|&i| seqs[i].frames());
    let mut out = vec![Vec::new(); seqs.len()];
    let (mut loss_sum, mut correct, mut total) = (0f64, 0usize, 0usize);
    for group in order.chunks(batch_size.max(1)) {
        let chunks: Vec<Chunk> = group
            .iter()
            .map(|&i| Chunk {
                seq: i,
                start: 0,
                len: seqs[i].frames(),
            })
            .filter(|c| c.len > 0)
            .collect();
        if chunks.is_empty() {
            continue;
        }
        let batch = Batch::assemble(seqs, &chunks);
        let (lp, loss, corr) = batch_forward(
            net,
            &batch,
            &mut ForwardOptions {
                dropout: None,
                hook,
            },
        )?;
        loss_sum += loss * batch.frames() as f64;
        correct += corr;
        total += batch.frames();
        let lp = lp.to_vec2::<f32>()?;
        let mut row = 0;
        for c in &chunks {
            let mut v = Vec::with_capacity(c.len * classes);
            for r in &lp[row..row + c.len] {
                v.extend_from_slice(r);
            }
            row += c.len;
            out[c.seq] = v;
        }
    }
    let n = total.max(1) as f64;
    Ok(FloatEval {
        loss: loss_sum / n,
        frame_acc: correct as f64 / n,
        log_posteriors: out,
    })
}

/// Forward over one batch: returns log posteriors of the valid frames `[N, C]`, the mean
/// cross-entropy and the number of correctly classified frames.
pub fn batch_forward<N: TrainableNetwork>(
    net: &N,
    batch: &Batch,
    opts: &mut ForwardOptions<'_>,
) -> Result<(Tensor, f64, usize), TrainError> {
    let (logits, loss) = batch_loss(net, batch, opts)?;
    let loss_v = loss.to_scalar::<f32>()? as f64;
    let lp = candle_nn::ops::log_softmax(&logits.detach(), D::Minus1)?;
    let correct = count_correct(&lp, &batch.targets)?;
    Ok((lp, loss_v, correct))
}

/// Logits of the valid frames `[N, C]` and their mean cross-entropy (a differentiable scalar,
/// one fused op: [`CrossEntropy`]). When no frame is padding the logits are used as they are,
/// without a gather.
pub fn batch_loss<N: TrainableNetwork>(
    net: &N,
    batch: &Batch,
    opts: &mut ForwardOptions<'_>,
) -> Result<(Tensor, Tensor), TrainError> {
    super::allocation::keep_freed_memory_for_reuse();
    let dev = Device::Cpu;
    let x = Tensor::from_slice(&batch.x, (batch.batch, batch.time, batch.dim), &dev)?;
    let logits = net.logits(&x, &batch.lengths, opts)?;
    let classes = net.classes();
    let flat = logits.reshape((batch.batch * batch.time, classes))?;
    let valid = if batch.valid.len() == batch.batch * batch.time {
        flat
    } else {
        let idx = Tensor::from_slice(&batch.valid, batch.valid.len(), &dev)?;
        flat.index_select(&idx, 0)?
    };
    let loss = valid.apply_op1(CrossEntropy {
        targets: Arc::new(batch.targets.clone()),
    })?;
    Ok((valid, loss))
}

/// Number of rows whose arg-max equals the target (logits or log posteriors alike: log-softmax
/// keeps the order within a row).
pub fn count_correct(log_posteriors: &Tensor, targets: &[u32]) -> Result<usize, TrainError> {
    let pred = log_posteriors.argmax(D::Minus1)?.to_vec1::<u32>()?;
    Ok(pred.iter().zip(targets).filter(|(a, b)| a == b).count())
}
