//! Float forward pass with PyTorch's semantics, the reference the golden tests hold against
//! PyTorch's own outputs and the float error of the search.
//!
//! LSTM (gates i, f, g, o): `pre = W_ih x + b_ih + W_hh h + b_hh`, `c = σ(f)·c + σ(i)·tanh(g)`,
//! `h = σ(o)·tanh(c)`. GRU (gates r, z, n): `r, z = σ(W_i· x + b_i· + W_h· h + b_h·)`,
//! `n = tanh(W_in x + b_in + r·(W_hn h + b_hn))`, `h = (1 − z)·n + z·h`. The reverse direction
//! runs from the last frame to the first; directions are concatenated (forward first). Dot
//! products accumulate in f64, so the result is closer to exact than either side's rounding.

use super::config::{RnnConfig, RnnKind};
use super::error::RnnError;
use super::params::{DirectionParams, RnnParams};

/// `y = x·Wᵀ + b` for `frames` rows of `x` (`frames × cols`), `w` `rows × cols`.
pub fn linear(x: &[f32], frames: usize, w: &[f32], rows: usize, bias: &[f32]) -> Vec<f32> {
    let cols = w.len() / rows.max(1);
    let mut y = vec![0f32; frames * rows];
    for (xr, yr) in x.chunks_exact(cols).zip(y.chunks_exact_mut(rows)) {
        for ((yo, wr), b) in yr.iter_mut().zip(w.chunks_exact(cols)).zip(bias) {
            *yo = (dot(xr, wr) + *b as f64) as f32;
        }
    }
    y
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum()
}

pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Checks the feature matrix against the model's input width.
pub(crate) fn check_input(
    config: &RnnConfig,
    feats: &[f32],
    frames: usize,
) -> Result<(), RnnError> {
    if frames == 0 || feats.len() != frames * config.input_dim {
        return Err(RnnError::Input(format!(
            "{} feature values for {frames} frames of dimension {} (the model's input_dim)",
            feats.len(),
            config.input_dim
        )));
    }
    Ok(())
}

/// Log-probabilities (`frames × classes`) of a feature matrix (`frames × input_dim`).
pub fn forward(params: &RnnParams, feats: &[f32], frames: usize) -> Result<Vec<f32>, RnnError> {
    let c = &params.config;
    check_input(c, feats, frames)?;
    let mut x = feats.to_vec();
    for (k, dirs) in params.layers.iter().enumerate() {
        if k > 0 {
            if let Some((w, b)) = params.proj.get(k - 1) {
                x = linear(&x, frames, w, b.len(), b);
            }
        }
        let out_dim = c.layer_output();
        let mut out = vec![0f32; frames * out_dim];
        for (d, p) in dirs.iter().enumerate() {
            let xw = linear(&x, frames, &p.w_ih, c.gate_rows(), &p.b_ih);
            direction(
                c.kind,
                p,
                &xw,
                frames,
                c.hidden,
                d == 1,
                &mut out,
                d * c.hidden,
                out_dim,
            );
        }
        x = out;
    }
    let mut logits = linear(&x, frames, &params.fc_weight, c.classes, &params.fc_bias);
    log_softmax_rows(&mut logits, c.classes);
    Ok(logits)
}

/// One direction of one layer: writes `h_t` into `out[t·stride + offset ..][..hidden]`.
#[allow(clippy::too_many_arguments)]
fn direction(
    kind: RnnKind,
    p: &DirectionParams,
    xw: &[f32],
    frames: usize,
    hidden: usize,
    reverse: bool,
    out: &mut [f32],
    offset: usize,
    stride: usize,
) {
    let rows = kind.gates() * hidden;
    let mut h = vec![0f32; hidden];
    let mut cell = vec![0f32; hidden];
    let mut gh = vec![0f32; rows];
    for step in 0..frames {
        let t = if reverse { frames - 1 - step } else { step };
        for ((g, w), b) in gh.iter_mut().zip(p.w_hh.chunks_exact(hidden)).zip(&p.b_hh) {
            *g = (dot(&h, w) + *b as f64) as f32;
        }
        let gx = &xw[t * rows..(t + 1) * rows];
        match kind {
            RnnKind::Lstm => {
                for j in 0..hidden {
                    let pre = |gate: usize| gx[gate * hidden + j] + gh[gate * hidden + j];
                    let (i, f, g, o) = (
                        sigmoid(pre(0)),
                        sigmoid(pre(1)),
                        pre(2).tanh(),
                        sigmoid(pre(3)),
                    );
                    cell[j] = f * cell[j] + i * g;
                    h[j] = o * cell[j].tanh();
                }
            }
            RnnKind::Gru => {
                for j in 0..hidden {
                    let r = sigmoid(gx[j] + gh[j]);
                    let z = sigmoid(gx[hidden + j] + gh[hidden + j]);
                    let n = (gx[2 * hidden + j] + r * gh[2 * hidden + j]).tanh();
                    h[j] = (1.0 - z) * n + z * h[j];
                }
            }
        }
        out[t * stride + offset..][..hidden].copy_from_slice(&h);
    }
}

/// Log-softmax of every row in place (max subtracted first).
pub fn log_softmax_rows(v: &mut [f32], classes: usize) {
    for row in v.chunks_mut(classes) {
        let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let lse = m as f64
            + row
                .iter()
                .map(|&x| ((x - m) as f64).exp())
                .sum::<f64>()
                .ln();
        row.iter_mut().for_each(|x| *x = (*x as f64 - lse) as f32);
    }
}
