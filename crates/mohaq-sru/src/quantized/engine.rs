//! Quantized inference of one utterance at given per-layer bit widths: matrix products on the
//! integer kernels of mohaq-quant, their results rounded to 16-bit fixed point, the recurrence in
//! 16-bit fixed point (METHOD §4.1). Weight quantization is cached per (layer, bits).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mohaq_quant::{
    max_magnitude, qmatmul, BitWidth, PackedMatrix, QuantParams, QuantizedActivations,
};

use super::bits::BitConfig;
use super::calibration::activation_params;
use super::error::QuantizedError;
use super::fixed::{quantize_elementwise, recurrence_fixed, round_to_own_grid};
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
        let c = &self.params.config;
        if feats.len() != frames * c.input_dim {
            return Err(QuantizedError::Input(format!(
                "{} feature values for {frames} frames of dimension {}",
                feats.len(),
                c.input_dim
            )));
        }
        let linear =
            |pos: usize, x: &[f32], alphas: &mut [f32]| -> Result<Vec<f32>, QuantizedError> {
                let b = bits.layers[pos].activation;
                let is_fc = pos == c.matrix_layers().len() - 1;
                let params = match mode {
                    ActivationMode::PerUtterance => activation_params(x, b, is_fc)?,
                    ActivationMode::Frozen(a) => QuantParams::from_alpha(b, a[pos])?,
                };
                alphas[pos] = if b == BitWidth::B16 {
                    max_magnitude(x).max(f32::MIN_POSITIVE)
                } else {
                    params.alpha
                };
                let w = &weights[pos];
                let xq = QuantizedActivations::quantize(x, frames, w.cols(), params)?;
                let mut y = qmatmul(&xq, w)?;
                round_to_own_grid(&mut y);
                Ok(y)
            };
        let mut h: Vec<f32> = feats.to_vec();
        for i in 0..c.layers {
            let inp = if i == 0 {
                h.clone()
            } else {
                linear(
                    c.layer_position(LayerKind::Projection { index: i }),
                    &h,
                    alphas,
                )?
            };
            let u = linear(c.layer_position(LayerKind::Sru { index: i }), &inp, alphas)?;
            let dims = RecurrenceDims {
                batch: 1,
                time: frames,
                hidden: c.hidden,
                blocks: c.blocks(i),
            };
            let mut out = vec![0f32; frames * c.layer_output()];
            let highway = (i > 0).then(|| (h.as_slice(), c.highway_scale()));
            recurrence_fixed(dims, &u, highway, &self.elementwise_fx[i], &mut out);
            h = out;
        }
        let mut logits = linear(c.layer_position(LayerKind::Output), &h, alphas)?;
        let classes = c.classes;
        for row in logits.chunks_mut(classes) {
            let mut m = f32::NEG_INFINITY;
            for (v, b) in row.iter_mut().zip(&self.fc_bias_fx) {
                *v += b;
                m = m.max(*v);
            }
            let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f32>().ln();
            row.iter_mut().for_each(|v| *v -= lse);
        }
        Ok(logits)
    }
}
