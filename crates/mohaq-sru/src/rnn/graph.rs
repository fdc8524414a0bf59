//! The LSTM/GRU forward as a candle graph, so that autograd trains it: the same equations as
//! [`super::float`] (PyTorch's), on batches of padded sequences `[B, T, D]`.
//!
//! The recurrence is unrolled one time step at a time (a custom op is not worth it at these
//! sizes). The reverse direction of a sequence shorter than the batch's longest starts at its own
//! last frame: its valid frames are reversed in place (padding stays at the end), run forward,
//! and put back, so padding never reaches a valid frame in either direction. A test holds the
//! graph's log-probabilities to [`super::float::forward`]'s within 1e-5.

use candle_core::{DType, Device, Tensor, Var, D};
use rand::Rng;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::config::{RnnConfig, RnnKind};
use super::error::RnnError;
use super::layers::RnnLayerKind;
use super::params::{expected_tensors, RnnParams};
use crate::model::network::{inverted_dropout, MatrixHook};
use crate::model::{ForwardOptions, ModelError};

fn candle(e: candle_core::Error) -> RnnError {
    RnnError::Model(ModelError::Candle(e))
}

/// The trainable tensors of an LSTM/GRU model, in the order of [`expected_tensors`].
pub struct RnnNetwork {
    pub config: RnnConfig,
    /// One `Var` per tensor of [`expected_tensors`], same order, same shapes.
    vars: Vec<Var>,
    device: Device,
}

/// Indices into [`RnnNetwork::vars`] of one direction's four tensors.
struct DirectionIdx {
    w_ih: usize,
    w_hh: usize,
    b_ih: usize,
    b_hh: usize,
}

/// Where each tensor sits in the var list (the order [`expected_tensors`] defines).
struct Layout {
    /// `proj[k-1]` = (weight, bias) before layer k.
    proj: Vec<(usize, usize)>,
    layers: Vec<Vec<DirectionIdx>>,
    fc: (usize, usize),
}

impl Layout {
    fn of(config: &RnnConfig) -> Self {
        let mut next = 0usize;
        let mut take = || {
            next += 1;
            next - 1
        };
        let mut proj = Vec::new();
        let mut layers = Vec::new();
        for k in 0..config.layers {
            if k > 0 && config.projection.is_some() {
                proj.push((take(), take()));
            }
            layers.push(
                (0..config.directions())
                    .map(|_| DirectionIdx {
                        w_ih: take(),
                        w_hh: take(),
                        b_ih: take(),
                        b_hh: take(),
                    })
                    .collect(),
            );
        }
        let fc = (take(), take());
        Layout { proj, layers, fc }
    }
}

/// PyTorch's default initialisation: every tensor uniform in ±1/√H (recurrent) or ±1/√in
/// (`Linear`), from one seeded generator, so a seed fixes the start of training.
pub fn init_params(config: &RnnConfig, seed: u64) -> RnnParams {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let recurrent_bound = 1.0 / (config.hidden as f32).sqrt();
    let values = expected_tensors(config)
        .into_iter()
        .map(|(name, shape)| {
            let is_linear = !name.contains("_ih_l") && !name.contains("_hh_l");
            let bound = if is_linear {
                // `Linear(in, out)`: the bias uses the weight's fan-in too, and every `Linear`
                // (projection, output) reads a recurrent layer's output.
                let fan_in = if shape.len() == 2 {
                    shape[1]
                } else {
                    config.layer_output()
                };
                1.0 / (fan_in as f32).sqrt()
            } else {
                recurrent_bound
            };
            let n: usize = shape.iter().product();
            (0..n)
                .map(|_| rng.random_range(-bound..bound))
                .collect::<Vec<f32>>()
        })
        .collect();
    RnnParams::from_ordered(config, values)
}

impl RnnNetwork {
    /// Variables holding a copy of `params`.
    pub fn from_params(params: &RnnParams) -> Result<Self, RnnError> {
        let device = Device::Cpu;
        let shapes = expected_tensors(&params.config);
        let vars = params
            .named()
            .into_iter()
            .zip(shapes)
            .map(|((_, values), (_, shape))| {
                Tensor::from_slice(values, shape.as_slice(), &device)
                    .and_then(|t| Var::from_tensor(&t))
            })
            .collect::<candle_core::Result<Vec<_>>>()
            .map_err(candle)?;
        Ok(RnnNetwork {
            config: params.config.clone(),
            vars,
            device,
        })
    }

    /// The variables, for the optimiser (order of [`expected_tensors`]).
    pub fn vars(&self) -> &[Var] {
        &self.vars
    }

    /// The current weights as plain arrays.
    pub fn to_params(&self) -> Result<RnnParams, RnnError> {
        let values = self
            .vars
            .iter()
            .map(|v| v.as_tensor().flatten_all().and_then(|t| t.to_vec1::<f32>()))
            .collect::<candle_core::Result<Vec<_>>>()
            .map_err(candle)?;
        Ok(RnnParams::from_ordered(&self.config, values))
    }

    /// Logits `[B, T, classes]` of padded inputs `x` `[B, T, input_dim]` whose sequence `b` has
    /// `lengths[b]` valid frames. `dropout` (probability, generator) drops units of every
    /// recurrent layer's output during training, scaled by 1/(1 − p), as the SRU's trainer does.
    pub fn forward(
        &self,
        x: &Tensor,
        lengths: &[usize],
        dropout: Option<(f32, &mut ChaCha8Rng)>,
    ) -> Result<Tensor, RnnError> {
        self.forward_with(
            x,
            lengths,
            &mut ForwardOptions {
                dropout,
                hook: None,
            },
        )
    }

    /// As [`Self::forward`], with the SRU network's options: dropout and a [`MatrixHook`]
    /// (fake quantization for QAT) that rewrites every product's weight and input, called with
    /// the layer's position in [`RnnConfig::matrix_layers`] (`L{k}` for both directions'
    /// `W_ih`, `R{k}` for `W_hh` and `h_{t−1}` at every step, `P{k}`, `FC`).
    pub fn forward_with(
        &self,
        x: &Tensor,
        lengths: &[usize],
        opts: &mut ForwardOptions<'_>,
    ) -> Result<Tensor, RnnError> {
        let hook = opts.hook;
        self.forward_inner(x, lengths, &mut opts.dropout, hook)
            .map_err(candle)
    }

    fn forward_inner(
        &self,
        x: &Tensor,
        lengths: &[usize],
        dropout: &mut Option<(f32, &mut ChaCha8Rng)>,
        hook: Option<&dyn MatrixHook>,
    ) -> candle_core::Result<Tensor> {
        let c = &self.config;
        let (b, t, d) = x.dims3()?;
        if d != c.input_dim || lengths.len() != b || lengths.iter().any(|&l| l > t) {
            candle_core::bail!(
                "input [{b}, {t}, {d}] with lengths {lengths:?} does not fit input_dim {}",
                c.input_dim
            );
        }
        let layout = Layout::of(c);
        let v = |i: usize| self.vars[i].as_tensor();
        let product = Product { hook };
        let reverse_index = reverse_within_lengths(lengths, t, &self.device)?;
        let mut h = x.clone();
        for (k, dirs) in layout.layers.iter().enumerate() {
            if k > 0 {
                if let Some(&(w, bias)) = layout.proj.get(k - 1) {
                    let pos = c.layer_position(RnnLayerKind::Projection { index: k });
                    h = product.linear3(pos, &h, v(w), v(bias))?;
                }
            }
            let input_pos = c.layer_position(RnnLayerKind::Input { layer: k });
            let recurrent_pos = c.layer_position(RnnLayerKind::Recurrent { layer: k });
            let mut outs = Vec::with_capacity(dirs.len());
            for (dir, idx) in dirs.iter().enumerate() {
                let input = if dir == 1 {
                    permute_frames(&h, &reverse_index)?
                } else {
                    h.clone()
                };
                let xw = product.linear3(input_pos, &input, v(idx.w_ih), v(idx.b_ih))?;
                let w_hh = product.weight(recurrent_pos, v(idx.w_hh))?;
                let out = self.recurrence(&xw, &w_hh, v(idx.b_hh), |h| {
                    product.activation(recurrent_pos, h)
                })?;
                outs.push(if dir == 1 {
                    permute_frames(&out, &reverse_index)?
                } else {
                    out
                });
            }
            h = Tensor::cat(&outs, 2)?;
            if let Some((p, rng)) = dropout.as_mut() {
                h = inverted_dropout(&h, *p, rng)?;
            }
        }
        let fc_pos = c.layer_position(RnnLayerKind::Output);
        product.linear3(fc_pos, &h, v(layout.fc.0), v(layout.fc.1))
    }

    /// One direction over `xw = W_ih x + b_ih` `[B, T, G·H]`: the outputs `h_t` `[B, T, H]`.
    /// `quantize_h` rewrites `h_{t−1}` before each recurrent product (identity without a hook).
    fn recurrence(
        &self,
        xw: &Tensor,
        w_hh: &Tensor,
        b_hh: &Tensor,
        quantize_h: impl Fn(&Tensor) -> candle_core::Result<Tensor>,
    ) -> candle_core::Result<Tensor> {
        let c = &self.config;
        let hidden = c.hidden;
        let (b, t, _) = xw.dims3()?;
        let w_hh_t = w_hh.t()?;
        let mut h = Tensor::zeros((b, hidden), DType::F32, &self.device)?;
        let mut cell = h.clone();
        let mut outs = Vec::with_capacity(t);
        let gate = |x: &Tensor, g: usize| x.narrow(1, g * hidden, hidden);
        for step in 0..t {
            let gx = xw.narrow(1, step, 1)?.squeeze(1)?;
            let gh = quantize_h(&h)?.matmul(&w_hh_t)?.broadcast_add(b_hh)?;
            match c.kind {
                RnnKind::Lstm => {
                    let pre = (gx + gh)?;
                    let i = sigmoid(&gate(&pre, 0)?)?;
                    let f = sigmoid(&gate(&pre, 1)?)?;
                    let g = gate(&pre, 2)?.tanh()?;
                    let o = sigmoid(&gate(&pre, 3)?)?;
                    cell = ((f * &cell)? + (i * g)?)?;
                    h = (o * cell.tanh()?)?;
                }
                RnnKind::Gru => {
                    let r = sigmoid(&(gate(&gx, 0)? + gate(&gh, 0)?)?)?;
                    let z = sigmoid(&(gate(&gx, 1)? + gate(&gh, 1)?)?)?;
                    let n = (gate(&gx, 2)? + (r * gate(&gh, 2)?)?)?.tanh()?;
                    // (1 − z)·n + z·h = n + z·(h − n)
                    h = (&n + (z * (&h - &n)?)?)?;
                }
            }
            outs.push(h.clone());
        }
        Tensor::stack(&outs, 1)
    }
}

/// σ(x) = (1 + tanh(x/2)) / 2: built from ops candle differentiates.
fn sigmoid(x: &Tensor) -> candle_core::Result<Tensor> {
    ((x * 0.5)?.tanh()? + 1.0)? * 0.5
}

/// The matrix products of one forward, with the hook (if any) applied to their operands.
struct Product<'a> {
    hook: Option<&'a dyn MatrixHook>,
}

impl Product<'_> {
    fn weight(&self, pos: usize, w: &Tensor) -> candle_core::Result<Tensor> {
        match self.hook {
            Some(hk) => hk.weight(pos, w),
            None => Ok(w.clone()),
        }
    }

    fn activation(&self, pos: usize, x: &Tensor) -> candle_core::Result<Tensor> {
        match self.hook {
            Some(hk) => hk.activation(pos, x),
            None => Ok(x.clone()),
        }
    }

    /// `x·Wᵀ + b` of layer `pos`; the bias stays full precision (16-bit at inference).
    fn linear3(
        &self,
        pos: usize,
        x: &Tensor,
        w: &Tensor,
        bias: &Tensor,
    ) -> candle_core::Result<Tensor> {
        linear3(&self.activation(pos, x)?, &self.weight(pos, w)?, bias)
    }
}

/// `x·Wᵀ + b` over the last dimension of `[B, T, in]`.
fn linear3(x: &Tensor, w: &Tensor, bias: &Tensor) -> candle_core::Result<Tensor> {
    let (b, t, d) = x.dims3()?;
    x.reshape((b * t, d))?
        .matmul(&w.t()?)?
        .broadcast_add(bias)?
        .reshape((b, t, ()))
}

/// Row indices into `[B·T]` that reverse each sequence's first `lengths[b]` frames and keep its
/// padding in place (an involution: applying it twice is the identity).
fn reverse_within_lengths(
    lengths: &[usize],
    t: usize,
    device: &Device,
) -> candle_core::Result<Tensor> {
    let mut index = Vec::with_capacity(lengths.len() * t);
    for (b, &len) in lengths.iter().enumerate() {
        for step in 0..t {
            let src = if step < len { len - 1 - step } else { step };
            index.push((b * t + src) as u32);
        }
    }
    Tensor::from_vec(index, lengths.len() * t, device)
}

fn permute_frames(x: &Tensor, index: &Tensor) -> candle_core::Result<Tensor> {
    let (b, t, d) = x.dims3()?;
    x.reshape((b * t, d))?
        .index_select(index, 0)?
        .reshape((b, t, d))
}

/// Log-probabilities of the valid frames `[N, classes]`, batch-major then time, as the trainer's
/// targets are laid out.
pub fn valid_log_probs(logits: &Tensor, valid: &Tensor) -> candle_core::Result<Tensor> {
    let (b, t, classes) = logits.dims3()?;
    let flat = logits.reshape((b * t, classes))?;
    candle_nn::ops::log_softmax(&flat.index_select(valid, 0)?, D::Minus1)
}
