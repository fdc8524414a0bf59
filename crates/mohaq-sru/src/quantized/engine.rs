//! Quantized inference of one utterance at given per-layer bit widths: matrix products on the
//! integer kernels of mohaq-quant, their results rounded to 16-bit fixed point, the recurrence in
//! 16-bit fixed point (METHOD §4.1). Weight quantization is cached per (layer, bits).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mohaq_quant::{qmatmul, BitWidth, PackedMatrix, QuantizedActivations};

use super::bits::BitConfig;
use super::calibration::layer_input_params;
use super::error::QuantizedError;
use super::fixed::{quantize_elementwise, recurrence_fixed, round_to_own_grid};
use super::log_softmax::bias_log_softmax;
use crate::model::layers::LayerKind;
use crate::model::recurrence::RecurrenceDims;
use crate::model::ModelParams;

/// How activation clipping thresholds are obtained.
#[derive(Clone, Copy, Debug)]
pub enum ActivationMode<'a> {
    /// Per utterance: MMSE for 2/4/8 bits (FC input: 0.8 × max), range for 16 bits (the search).
    PerUtterance,
    /// Frozen thresholds, one per matrix layer (final test evaluation).
    Frozen(&'a [f32]),
}

/// A model ready for quantized inference; cheap to share between threads.
pub struct QuantizedModel {
    params: Arc<ModelParams>,
    elementwise_fx: Vec<Vec<f32>>,
    fc_bias_fx: Vec<f32>,
    cache: Mutex<HashMap<(usize, BitWidth), Arc<PackedMatrix>>>,
}

impl QuantizedModel {
    pub fn new(params: ModelParams) -> Self {
        let elementwise_fx = params
            .sru
            .iter()
            .map(|l| {
                let mut p = Vec::with_capacity(l.v_f.len() * 4);
                for part in [&l.v_f, &l.v_r, &l.b_f, &l.b_r] {
                    p.extend_from_slice(part);
                }
                quantize_elementwise(&p)
            })
            .collect();
        let fc_bias_fx = quantize_elementwise(&params.fc_bias);
        Self {
            params: Arc::new(params),
            elementwise_fx,
            fc_bias_fx,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn params(&self) -> &ModelParams {
        &self.params
    }

    fn weight_values(&self, pos: usize) -> (&[f32], usize, usize) {
        let c = &self.params.config;
        let layer = &c.matrix_layers()[pos];
        let data: &[f32] = match layer.kind {
            LayerKind::Sru { index } => &self.params.sru[index].weight,
            LayerKind::Projection { index } => &self.params.proj[index - 1],
            LayerKind::Output => &self.params.fc_weight,
        };
        (data, layer.out_dim, layer.in_dim)
    }

    /// The quantized weight matrix of layer `pos` at `bits`, computed once and cached.
    pub fn weight(&self, pos: usize, bits: BitWidth) -> Result<Arc<PackedMatrix>, QuantizedError> {
        if let Some(w) = self.lock().get(&(pos, bits)) {
            return Ok(w.clone());
        }
        let (data, rows, cols) = self.weight_values(pos);
        let w = Arc::new(PackedMatrix::quantize_mmse(data, rows, cols, bits)?);
        Ok(self.lock().entry((pos, bits)).or_insert(w).clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(usize, BitWidth), Arc<PackedMatrix>>> {
        // A panic while holding the lock cannot leave the map inconsistent (inserts are atomic).
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Quantized weights of every layer for `bits`.
    pub fn weights(&self, bits: &BitConfig) -> Result<Vec<Arc<PackedMatrix>>, QuantizedError> {
        let n = self.params.config.matrix_layers().len();
        if bits.layers.len() != n {
            return Err(QuantizedError::Bits(super::bits::GeneError::Length {
                expected: 2 * n,
                got: 2 * bits.layers.len(),
            }));
        }
        bits.layers
            .iter()
            .enumerate()
            .map(|(pos, b)| self.weight(pos, b.weight))
            .collect()
    }

    /// Matrix-layer positions (indices of [`crate::model::ModelConfig::matrix_layers`]) in the
    /// order the forward pass runs them: L0, P1, L1, …, P{n−1}, L{n−1}, FC. The output of step
    /// `s` depends only on the widths of the layers at steps ≤ s, which is what lets a batch of
    /// candidates share the work of a common prefix.
    pub fn computation_order(&self) -> Vec<usize> {
        let c = &self.params.config;
        let mut order = vec![c.layer_position(LayerKind::Sru { index: 0 })];
        for i in 1..c.layers {
            order.push(c.layer_position(LayerKind::Projection { index: i }));
            order.push(c.layer_position(LayerKind::Sru { index: i }));
        }
        order.push(c.layer_position(LayerKind::Output));
        order
    }

    /// Values per frame of the state after `depth` steps of [`Self::computation_order`] (0: the
    /// features), counted as [`StepState::memory_bytes`] counts them: what a cache entry costs.
    pub fn state_floats_per_frame(&self, depth: usize) -> usize {
        let c = &self.params.config;
        let order = self.computation_order();
        match depth
            .checked_sub(1)
            .map(|s| c.matrix_layers()[order[s]].kind)
        {
            None => c.input_dim,
            // The projection keeps the SRU output (the highway) beside its own output.
            Some(LayerKind::Projection { .. }) => c.layer_output() + c.projection,
            Some(LayerKind::Sru { .. }) => c.layer_output(),
            Some(LayerKind::Output) => c.classes,
        }
    }

    /// The state before step 0: the utterance's features (`frames × input_dim`).
    pub fn input_state(&self, feats: &[f32], frames: usize) -> Result<StepState, QuantizedError> {
        let c = &self.params.config;
        if feats.len() != frames * c.input_dim {
            return Err(QuantizedError::Input(format!(
                "{} feature values for {frames} frames of dimension {}",
                feats.len(),
                c.input_dim
            )));
        }
        Ok(StepState {
            frames,
            h: Arc::new(feats.to_vec()),
            projected: None,
        })
    }

    /// Runs step `step` of [`Self::computation_order`] on the state after step `step − 1`: a
    /// projection, an SRU layer with its recurrence, or the FC layer with the log-softmax (whose
    /// state holds the log posteriors). Writes the activation threshold it used into `alphas`.
    #[allow(clippy::too_many_arguments)]
    pub fn step(
        &self,
        step: usize,
        state: &StepState,
        bits: &BitConfig,
        weights: &[Arc<PackedMatrix>],
        mode: ActivationMode<'_>,
        alphas: &mut [f32],
    ) -> Result<StepState, QuantizedError> {
        let c = &self.params.config;
        let frames = state.frames;
        let pos = self.computation_order()[step];
        // The product's output on its own grid, and its largest magnitude.
        let linear = |x: &[f32], alphas: &mut [f32]| -> Result<(Vec<f32>, f32), QuantizedError> {
            let b = bits.layers[pos].activation;
            let is_fc = pos == c.matrix_layers().len() - 1;
            let params = layer_input_params(x, b, is_fc, mode, pos, alphas)?;
            let w = &weights[pos];
            let xq = QuantizedActivations::quantize(x, frames, w.cols(), params)?;
            let mut y = qmatmul(&xq, w)?;
            let range = round_to_own_grid(&mut y);
            Ok((y, range))
        };
        match c.matrix_layers()[pos].kind {
            LayerKind::Projection { .. } => Ok(StepState {
                frames,
                h: state.h.clone(),
                projected: Some(Arc::new(linear(&state.h, alphas)?.0)),
            }),
            LayerKind::Sru { index: i } => {
                let inp = state.projected.as_deref().unwrap_or(&state.h);
                let (u, u_range) = linear(inp, alphas)?;
                let dims = RecurrenceDims {
                    batch: 1,
                    time: frames,
                    hidden: c.hidden,
                    blocks: c.blocks(i),
                };
                let mut out = vec![0f32; frames * c.layer_output()];
                let highway = (i > 0).then(|| (state.h.as_slice(), c.highway_scale()));
                recurrence_fixed(
                    dims,
                    &u,
                    u_range,
                    highway,
                    &self.elementwise_fx[i],
                    &mut out,
                );
                Ok(StepState {
                    frames,
                    h: Arc::new(out),
                    projected: None,
                })
            }
            LayerKind::Output => {
                let (mut logits, _) = linear(&state.h, alphas)?;
                bias_log_softmax(&mut logits, &self.fc_bias_fx);
                Ok(StepState {
                    frames,
                    h: Arc::new(logits),
                    projected: None,
                })
            }
        }
    }

    /// Runs one utterance (`frames × input_dim`). Returns log posteriors (`frames × classes`)
    /// and writes the activation threshold used per layer into `alphas` (for 16 bits: the range).
    pub fn forward(
        &self,
        feats: &[f32],
        frames: usize,
        bits: &BitConfig,
        weights: &[Arc<PackedMatrix>],
        mode: ActivationMode<'_>,
        alphas: &mut [f32],
    ) -> Result<Vec<f32>, QuantizedError> {
        let mut state = self.input_state(feats, frames)?;
        for step in 0..self.computation_order().len() {
            state = self.step(step, &state, bits, weights, mode, alphas)?;
        }
        Ok(state.into_values())
    }
}

/// What one utterance carries from one step of the forward pass to the next: the last SRU
/// layer's output (or the features), and after a projection step also the projection, which
/// feeds the next SRU layer while the SRU output feeds its highway. Cloning shares the buffers.
#[derive(Clone, Debug)]
pub struct StepState {
    frames: usize,
    h: Arc<Vec<f32>>,
    projected: Option<Arc<Vec<f32>>>,
}

impl StepState {
    /// The values of the last step (after the FC step: log posteriors, `frames × classes`).
    pub fn values(&self) -> &[f32] {
        self.projected.as_deref().unwrap_or(&self.h)
    }

    /// Number of frames.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Bytes this state holds (shared buffers counted in full).
    pub fn memory_bytes(&self) -> usize {
        4 * (self.h.len() + self.projected.as_ref().map_or(0, |p| p.len()))
    }

    fn into_values(self) -> Vec<f32> {
        match self.projected {
            Some(p) => Arc::unwrap_or_clone(p),
            None => Arc::unwrap_or_clone(self.h),
        }
    }
}
