//! Per-layer curvature for HAWQ-V3-style sensitivity. HAWQ-V3 uses the Hessian trace from
//! Hutchinson's estimator, which needs Hessian-vector products; candle's autograd gives first
//! derivatives only, so the curvature here is the empirical Fisher instead: the mean over
//! utterances of the squared gradient of the utterance's mean cross-entropy, per weight, averaged
//! over each matrix layer. Times the quantization perturbation ‖Q(W) − W‖² it estimates the loss
//! increase of quantizing that layer alone.

use mohaq_quant::{BitWidth, QuantParams};

use super::batching::{Batch, Chunk, SequenceRef};
use super::error::TrainError;
use super::evaluate::batch_loss;
use crate::model::{ForwardOptions, ModelParams, SruNetwork};

/// Mean empirical-Fisher diagonal of each matrix layer's weights, in gene order (L0..L3,
/// P1..P3, FC), over `seqs` (one utterance per gradient, so it is a per-sample Fisher).
pub fn empirical_fisher_means(
    params: &ModelParams,
    seqs: &[SequenceRef<'_>],
) -> Result<Vec<f64>, TrainError> {
    let net = SruNetwork::from_params(params)?;
    let vars = net.vars();
    let n_sru = params.sru.len();
    // vars: (weight, elementwise) per SRU layer, then projections, then FC weight and bias.
    let mut matrices: Vec<&candle_core::Var> = (0..n_sru).map(|l| &vars[2 * l]).collect();
    matrices.extend(&vars[2 * n_sru..vars.len() - 1]);
    let mut sums = vec![0f64; matrices.len()];
    let mut used = 0usize;
    for (i, s) in seqs.iter().enumerate() {
        if s.frames() == 0 {
            continue;
        }
        let chunk = Chunk {
            seq: i,
            start: 0,
            len: s.frames(),
        };
        let batch = Batch::assemble(seqs, &[chunk]);
        let (_, loss) = batch_loss(
            &net,
            &batch,
            &mut ForwardOptions {
                dropout: None,
                hook: None,
            },
        )?;
        let grads = loss.backward()?;
        for (sum, var) in sums.iter_mut().zip(&matrices) {
            if let Some(g) = grads.get(var.as_tensor()) {
                *sum += f64::from(g.sqr()?.sum_all()?.to_scalar::<f32>()?);
            }
        }
        used += 1;
    }
    let used = used.max(1) as f64;
    Ok(sums
        .iter()
        .zip(&matrices)
        .map(|(s, v)| s / used / v.as_tensor().elem_count().max(1) as f64)
        .collect())
}

/// ‖Q(W) − W‖² of `weights` quantized at `bits` with the search's weight quantizer (MMSE clip).
pub fn quantization_perturbation(weights: &[f32], bits: BitWidth) -> Result<f64, TrainError> {
    let q = QuantParams::mmse(weights, bits)
        .map_err(|e| TrainError::Data(format!("quantizing weights: {e}")))?;
    Ok(weights
        .iter()
        .map(|&w| {
            let d = f64::from(q.fake_quant_one(w) - w);
            d * d
        })
        .sum())
}

/// The matrix layers' weights of `params` in gene order.
pub fn matrix_weights(params: &ModelParams) -> Vec<&[f32]> {
    let mut out: Vec<&[f32]> = params.sru.iter().map(|l| l.weight.as_slice()).collect();
    out.extend(params.proj.iter().map(Vec::as_slice));
    out.push(&params.fc_weight);
    out
}
