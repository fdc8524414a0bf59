//! LSTM/GRU inference at per-layer widths, as the SRU's (METHOD §4.1): every matrix product on
//! mohaq-quant's integer kernels with its weight and input-activation width, its result rounded
//! to its own 16-bit fixed-point grid, and the elementwise cell in 16-bit fixed point.
//!
//! - `L{k}`: the layer input (features or projection) is calibrated per utterance (MMSE; range
//!   at 16 bits) or frozen, and one product gives every frame's input gates of both directions.
//! - `R{k}`: `W_hh · h_{t−1}` runs on the integer kernels once per time step and direction.
//!   `h` is bounded by 1 (LSTM: `σ(o)·tanh(c)`; GRU: a convex combination of `tanh` values and
//!   the zero start), so its threshold is α = 1 at every width, known before the sequence runs;
//!   per-utterance calibration would need `h` before it exists.
//! - Gates and `h` lie in (−1, 1) and are held in Q1.14 (the grid of range 1); the LSTM cell
//!   state in the format of range [`CELL_RANGE`] (Q5.10, saturating at ±32); biases on their
//!   own grids. Nonlinearities are evaluated in f32 and rounded to their grid.
//! - `P{k}`, `FC`: as the SRU's (FC input at 0.8 × max), the output log-softmax in f32.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mohaq_precision::LayerWidths;
use mohaq_quant::{qmatmul, BitWidth, PackedMatrix, QuantParams, QuantizedActivations};

use super::config::{RnnConfig, RnnKind};
use super::error::RnnError;
use super::float::{check_input, log_softmax_rows, sigmoid};
use super::layers::RnnLayerKind;
use super::params::RnnParams;
use crate::quantized::calibration::layer_input_params;
use crate::quantized::fixed::{fx, quantize_elementwise, round_to_own_grid, scale_for};
use crate::quantized::ActivationMode;

/// Range of the LSTM cell state's fixed-point format: Q5.10, values up to ±32 (saturating).
pub const CELL_RANGE: f32 = 16.0;

/// Threshold of the recurrent products' input `h_{t−1}`, which never leaves (−1, 1).
pub const HIDDEN_ALPHA: f32 = 1.0;

/// Biases of one direction on their fixed-point grids.
struct DirectionBias {
    /// Added to the input product: LSTM `b_ih + b_hh`; GRU `b_ih` plus `b_hr`, `b_hz`.
    gates: Vec<f32>,
    /// GRU only: `b_hn`, added to `W_hn h` before the reset gate multiplies it.
    hn: Vec<f32>,
}

type WeightKey = (usize, usize, BitWidth);

/// A model ready for quantized inference; cheap to share between threads.
pub struct RnnQuantized {
    params: Arc<RnnParams>,
    bias: Vec<Vec<DirectionBias>>,
    proj_bias: Vec<Vec<f32>>,
    fc_bias: Vec<f32>,
    cache: Mutex<HashMap<WeightKey, Arc<PackedMatrix>>>,
}

impl RnnQuantized {
    pub fn new(params: RnnParams) -> Self {
        let h = params.config.hidden;
        let kind = params.config.kind;
        let bias = params
            .layers
            .iter()
            .map(|dirs| {
                dirs.iter()
                    .map(|d| {
                        let mut gates: Vec<f32> =
                            d.b_ih.iter().zip(&d.b_hh).map(|(a, b)| a + b).collect();
                        let mut hn = Vec::new();
                        if kind == RnnKind::Gru {
                            gates[2 * h..].copy_from_slice(&d.b_ih[2 * h..]);
                            hn = quantize_elementwise(&d.b_hh[2 * h..]);
                        }
                        DirectionBias {
                            gates: quantize_elementwise(&gates),
                            hn,
                        }
                    })
                    .collect()
            })
            .collect();
        let proj_bias = params
            .proj
            .iter()
            .map(|(_, b)| quantize_elementwise(b))
            .collect();
        let fc_bias = quantize_elementwise(&params.fc_bias);
        Self {
            params: Arc::new(params),
            bias,
            proj_bias,
            fc_bias,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn params(&self) -> &RnnParams {
        &self.params
    }

    /// The quantized weights of layer `pos` (direction `dir` for a recurrent layer, else 0) at
    /// `bits`, computed once and cached.
    fn weight(
        &self,
        pos: usize,
        dir: usize,
        bits: BitWidth,
    ) -> Result<Arc<PackedMatrix>, RnnError> {
        let key = (pos, dir, bits);
        if let Some(w) = self.lock().get(&key) {
            return Ok(w.clone());
        }
        let p = &self.params;
        let c = &p.config;
        let layer = &c.matrix_layers()[pos];
        let w = match layer.kind {
            RnnLayerKind::Input { layer: k } => {
                PackedMatrix::quantize_mmse(&p.stacked_input(k), layer.out_dim, layer.in_dim, bits)?
            }
            RnnLayerKind::Recurrent { layer: k } => {
                PackedMatrix::quantize_mmse(&p.layers[k][dir].w_hh, c.gate_rows(), c.hidden, bits)?
            }
            RnnLayerKind::Projection { index } => PackedMatrix::quantize_mmse(
                &p.proj[index - 1].0,
                layer.out_dim,
                layer.in_dim,
                bits,
            )?,
            RnnLayerKind::Output => {
                PackedMatrix::quantize_mmse(&p.fc_weight, layer.out_dim, layer.in_dim, bits)?
            }
        };
        let w = Arc::new(w);
        Ok(self.lock().entry(key).or_insert(w).clone())
    }

    /// The model's packed matrices: [`matrix_slots`] of its config.
    pub fn matrix_slots(&self) -> Vec<(usize, usize)> {
        matrix_slots(&self.params.config)
    }

    /// The quantized weights at `widths` in [`Self::matrix_slots`] order, as the forward pass
    /// uses them (computed once and cached).
    pub fn packed_weights(
        &self,
        widths: &[LayerWidths],
    ) -> Result<Vec<Arc<PackedMatrix>>, RnnError> {
        self.check_widths(widths)?;
        self.matrix_slots()
            .into_iter()
            .map(|(pos, dir)| self.weight(pos, dir, widths[pos].weight))
            .collect()
    }

    /// Makes the forward pass use `matrix` for layer `pos`, direction `dir` at its width
    /// instead of quantizing the float weights: an exported model's packed weights, so its
    /// inference is this one.
    pub fn preload(&self, pos: usize, dir: usize, matrix: Arc<PackedMatrix>) {
        self.lock().insert((pos, dir, matrix.bits()), matrix);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<WeightKey, Arc<PackedMatrix>>> {
        // Inserts are atomic, so a panic elsewhere cannot leave the map inconsistent.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Checks that `widths` has one entry per matrix layer.
    pub fn check_widths(&self, widths: &[LayerWidths]) -> Result<(), RnnError> {
        let n = self.params.config.matrix_layers().len();
        if widths.len() != n {
            return Err(RnnError::Input(format!(
                "{} layer widths for a model with {n} matrix layers",
                widths.len()
            )));
        }
        Ok(())
    }

    /// Log-probabilities (`frames × classes`) of one utterance at `widths`; writes the
    /// activation threshold used per matrix layer into `alphas` (16 bits: the range).
    pub fn forward(
        &self,
        feats: &[f32],
        frames: usize,
        widths: &[LayerWidths],
        mode: ActivationMode<'_>,
        alphas: &mut [f32],
    ) -> Result<Vec<f32>, RnnError> {
        let c = &self.params.config;
        check_input(c, feats, frames)?;
        self.check_widths(widths)?;
        let mut x = feats.to_vec();
        for k in 0..c.layers {
            if k > 0 && c.projection.is_some() {
                let pos = c.layer_position(RnnLayerKind::Projection { index: k });
                x = self.linear(pos, &x, frames, widths, mode, alphas)?;
                add_bias(&mut x, &self.proj_bias[k - 1]);
            }
            let pos = c.layer_position(RnnLayerKind::Input { layer: k });
            let u = self.linear(pos, &x, frames, widths, mode, alphas)?;
            x = self.layer(k, &u, frames, widths, alphas)?;
        }
        let pos = c.layer_position(RnnLayerKind::Output);
        let mut logits = self.linear(pos, &x, frames, widths, mode, alphas)?;
        add_bias(&mut logits, &self.fc_bias);
        log_softmax_rows(&mut logits, c.classes);
        Ok(logits)
    }

    /// One matrix layer applied to every frame: input quantized at the layer's activation
    /// width, product on the integer kernels, result rounded to its own 16-bit grid.
    fn linear(
        &self,
        pos: usize,
        x: &[f32],
        frames: usize,
        widths: &[LayerWidths],
        mode: ActivationMode<'_>,
        alphas: &mut [f32],
    ) -> Result<Vec<f32>, RnnError> {
        let b = widths[pos].activation;
        let is_fc = pos + 1 == widths.len();
        let params = layer_input_params(x, b, is_fc, mode, pos, alphas)?;
        let w = self.weight(pos, 0, widths[pos].weight)?;
        let xq = QuantizedActivations::quantize(x, frames, w.cols(), params)?;
        let mut y = qmatmul(&xq, &w)?;
        round_to_own_grid(&mut y);
        Ok(y)
    }

    /// Recurrent layer `k` over the input products `u` (`frames × D·G·H`): the output
    /// `frames × D·H`, directions concatenated.
    fn layer(
        &self,
        k: usize,
        u: &[f32],
        frames: usize,
        widths: &[LayerWidths],
        alphas: &mut [f32],
    ) -> Result<Vec<f32>, RnnError> {
        let c = &self.params.config;
        let (h_dim, rows) = (c.hidden, c.gate_rows());
        let pos = c.layer_position(RnnLayerKind::Recurrent { layer: k });
        let h_params = QuantParams::from_alpha(widths[pos].activation, HIDDEN_ALPHA)?;
        alphas[pos] = HIDDEN_ALPHA;
        let gate = scale_for(1.0);
        let cell_scale = scale_for(CELL_RANGE);
        let stride = c.layer_output();
        let all_rows = c.directions() * rows;
        let mut out = vec![0f32; frames * stride];
        for d in 0..c.directions() {
            let w = self.weight(pos, d, widths[pos].weight)?;
            let bias = &self.bias[k][d];
            let mut h = vec![0f32; h_dim];
            let mut cell = vec![0f32; h_dim];
            let mut pre = vec![0f32; rows];
            for step in 0..frames {
                let t = if d == 1 { frames - 1 - step } else { step };
                let hq = QuantizedActivations::quantize(&h, 1, h_dim, h_params)?;
                let mut gh = qmatmul(&hq, &w)?;
                round_to_own_grid(&mut gh);
                let ux = &u[t * all_rows + d * rows..][..rows];
                for ((p, &a), &b) in pre.iter_mut().zip(ux).zip(&bias.gates) {
                    *p = a + b;
                }
                match c.kind {
                    RnnKind::Lstm => {
                        for j in 0..h_dim {
                            let g = |i: usize| pre[i * h_dim + j] + gh[i * h_dim + j];
                            let i = fx(sigmoid(g(0)), gate);
                            let f = fx(sigmoid(g(1)), gate);
                            let cand = fx(g(2).tanh(), gate);
                            let o = fx(sigmoid(g(3)), gate);
                            cell[j] = fx(f * cell[j] + i * cand, cell_scale);
                            h[j] = fx(o * fx(cell[j].tanh(), gate), gate);
                        }
                    }
                    RnnKind::Gru => {
                        for j in 0..h_dim {
                            let r = fx(sigmoid(pre[j] + gh[j]), gate);
                            let z = fx(sigmoid(pre[h_dim + j] + gh[h_dim + j]), gate);
                            let hn = gh[2 * h_dim + j] + bias.hn[j];
                            let n = fx((pre[2 * h_dim + j] + r * hn).tanh(), gate);
                            h[j] = fx((1.0 - z) * n + z * h[j], gate);
                        }
                    }
                }
                out[t * stride + d * h_dim..][..h_dim].copy_from_slice(&h);
            }
        }
        Ok(out)
    }
}

/// The packed matrices of a model: `(layer position, direction)` for every matrix layer in
/// layer order, one per direction for a recurrent layer (`R{k}` has one `W_hh` per direction),
/// direction 0 otherwise. What an export stores.
pub fn matrix_slots(config: &RnnConfig) -> Vec<(usize, usize)> {
    config
        .matrix_layers()
        .iter()
        .enumerate()
        .flat_map(|(pos, l)| {
            let dirs = match l.kind {
                RnnLayerKind::Recurrent { .. } => config.directions(),
                _ => 1,
            };
            (0..dirs).map(move |d| (pos, d))
        })
        .collect()
}

fn add_bias(v: &mut [f32], bias: &[f32]) {
    for row in v.chunks_mut(bias.len()) {
        row.iter_mut().zip(bias).for_each(|(x, b)| *x += b);
    }
}
