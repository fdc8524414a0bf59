//! The differentiable SRU network on candle (CPU), used for training, QAT and float inference.

use std::sync::Arc;

use candle_core::{DType, Device, Tensor, Var};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::config::ModelConfig;
use super::error::ModelError;
use super::layers::LayerKind;
use super::params::{ModelParams, SruLayerParams};
use super::recurrence::SruRecurrence;

/// A hook that rewrites weights and matrix inputs before each matrix product: quantization-aware
/// training plugs fake quantization in here. `layer` is the gene-order position of the layer.
pub trait MatrixHook {
    fn weight(&self, layer: usize, w: &Tensor) -> candle_core::Result<Tensor>;
    fn activation(&self, layer: usize, x: &Tensor) -> candle_core::Result<Tensor>;
}

/// Per-call options of [`SruNetwork::forward`].
#[derive(Default)]
pub struct ForwardOptions<'a> {
    /// Dropout between layers with this probability, masks drawn from this RNG (so a seed fixes
    /// them whatever the thread count). `None` in evaluation.
    pub dropout: Option<(f32, &'a mut ChaCha8Rng)>,
    /// Fake quantization (QAT) or any other rewrite of matrix operands.
    pub hook: Option<&'a dyn MatrixHook>,
}

/// Inverted dropout: each element of `h` is kept with probability 1 − `p` and scaled by
/// 1 / (1 − `p`), or zeroed. The mask is drawn element by element, in order, from `rng`, so a
/// seed fixes it whatever the thread count. `p` ≤ 0 returns `h` unchanged, drawing nothing.
pub fn inverted_dropout(h: &Tensor, p: f32, rng: &mut ChaCha8Rng) -> candle_core::Result<Tensor> {
    if p <= 0.0 {
        return Ok(h.clone());
    }
    let keep = 1.0 - p;
    let mask: Vec<f32> = (0..h.elem_count())
        .map(|_| {
            if rng.random::<f32>() < keep {
                1.0 / keep
            } else {
                0.0
            }
        })
        .collect();
    h.mul(&Tensor::from_vec(mask, h.shape(), h.device())?)
}

/// Trainable variables of one SRU layer.
pub struct SruLayerVars {
    /// `[2·k·H, in]`.
    pub weight: Var,
    /// `[4, 2, H]`: v_f, v_r, b_f, b_r.
    pub elementwise: Var,
}

/// The network as candle variables.
pub struct SruNetwork {
    pub config: ModelConfig,
    pub sru: Vec<SruLayerVars>,
    pub proj: Vec<Var>,
    pub fc_weight: Var,
    pub fc_bias: Var,
    device: Device,
}

impl SruNetwork {
    /// Wraps parameters in candle variables on the CPU.
    pub fn from_params(p: &ModelParams) -> Result<Self, ModelError> {
        let dev = Device::Cpu;
        let c = &p.config;
        let h = c.hidden;
        let two_h = c.layer_output();
        let var = |data: &[f32], shape: &[usize]| -> Result<Var, ModelError> {
            Ok(Var::from_tensor(&Tensor::from_slice(data, shape, &dev)?)?)
        };
        let mut sru = Vec::new();
        for (i, l) in p.sru.iter().enumerate() {
            let mut ew = Vec::with_capacity(8 * h);
            for part in [&l.v_f, &l.v_r, &l.b_f, &l.b_r] {
                ew.extend_from_slice(part);
            }
            sru.push(SruLayerVars {
                weight: var(&l.weight, &[2 * c.blocks(i) * h, c.sru_input(i)])?,
                elementwise: var(&ew, &[4, 2, h])?,
            });
        }
        let proj = p
            .proj
            .iter()
            .map(|w| var(w, &[c.projection, two_h]))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            config: c.clone(),
            sru,
            proj,
            fc_weight: var(&p.fc_weight, &[c.classes, two_h])?,
            fc_bias: var(&p.fc_bias, &[c.classes])?,
            device: dev,
        })
    }

    /// Copies the variables back into plain parameters.
    pub fn to_params(&self) -> Result<ModelParams, ModelError> {
        let h = self.config.hidden;
        let flat = |v: &Var| -> Result<Vec<f32>, ModelError> {
            Ok(v.as_tensor().flatten_all()?.to_vec1::<f32>()?)
        };
        let mut sru = Vec::new();
        for l in &self.sru {
            let ew = flat(&l.elementwise)?;
            sru.push(SruLayerParams {
                weight: flat(&l.weight)?,
                v_f: ew[0..2 * h].to_vec(),
                v_r: ew[2 * h..4 * h].to_vec(),
                b_f: ew[4 * h..6 * h].to_vec(),
                b_r: ew[6 * h..8 * h].to_vec(),
            });
        }
        Ok(ModelParams {
            config: self.config.clone(),
            sru,
            proj: self.proj.iter().map(flat).collect::<Result<_, _>>()?,
            fc_weight: flat(&self.fc_weight)?,
            fc_bias: flat(&self.fc_bias)?,
        })
    }

    /// All variables in the order of [`ModelParams::expected_shapes`] grouped per layer
    /// (weight, elementwise), then projections, then FC weight and bias.
    pub fn vars(&self) -> Vec<Var> {
        let mut out = Vec::new();
        for l in &self.sru {
            out.push(l.weight.clone());
            out.push(l.elementwise.clone());
        }
        out.extend(self.proj.iter().cloned());
        out.push(self.fc_weight.clone());
        out.push(self.fc_bias.clone());
        out
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Forward pass: `x` is `[B, T, input_dim]`, padded after `lengths[b]` frames. Returns
    /// the logits `[B, T, classes]` (before log-softmax).
    pub fn forward(
        &self,
        x: &Tensor,
        lengths: &[usize],
        opts: &mut ForwardOptions<'_>,
    ) -> Result<Tensor, ModelError> {
        let c = &self.config;
        let (_, _, d) = x.dims3()?;
        if d != c.input_dim {
            return Err(ModelError::InputDim {
                expected: c.input_dim,
                found: d,
            });
        }
        let lengths = Arc::new(lengths.to_vec());
        let hook = opts.hook;
        let matmul = |x: &Tensor, w: &Var, pos: usize| -> candle_core::Result<Tensor> {
            let (x, w) = match hook {
                Some(hk) => (hk.activation(pos, x)?, hk.weight(pos, w.as_tensor())?),
                None => (x.clone(), w.as_tensor().clone()),
            };
            let (bb, tt, dd) = x.dims3()?;
            x.reshape((bb * tt, dd))?
                .matmul(&w.t()?)?
                .reshape((bb, tt, ()))
        };
        let mut h = x.clone();
        for (i, layer) in self.sru.iter().enumerate() {
            let inp = if i == 0 {
                h.clone()
            } else {
                let pos = c.layer_position(LayerKind::Projection { index: i });
                matmul(&h, &self.proj[i - 1], pos)?
            };
            let pos = c.layer_position(LayerKind::Sru { index: i });
            let u = matmul(&inp, &layer.weight, pos)?.contiguous()?;
            let op = SruRecurrence {
                hidden: c.hidden,
                blocks: c.blocks(i),
                lengths: lengths.clone(),
                alpha: (i > 0).then(|| c.highway_scale()),
            };
            let highway = if i == 0 {
                Tensor::zeros(1, DType::F32, &self.device)?
            } else {
                h.contiguous()?
            };
            h = u.apply_op3(&highway, layer.elementwise.as_tensor(), op)?;
            if let Some((p, rng)) = opts.dropout.as_mut() {
                h = inverted_dropout(&h, *p, rng)?;
            }
        }
        let pos = c.layer_position(LayerKind::Output);
        let logits = matmul(&h, &self.fc_weight, pos)?.broadcast_add(self.fc_bias.as_tensor())?;
        Ok(logits)
    }
}
