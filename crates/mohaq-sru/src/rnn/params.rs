//! LSTM/GRU weights as plain f32 arrays under PyTorch's tensor names, so a bundle reads like
//! the state_dict it came from.
//!
//! Names (prefixes from [`TensorNames`], `_reverse` for the backward direction):
//! - one stacked module (no projection): `{rnn}.weight_ih_l{k}` `[G·H, in]`,
//!   `{rnn}.weight_hh_l{k}` `[G·H, H]`, `{rnn}.bias_ih_l{k}`, `{rnn}.bias_hh_l{k}` `[G·H]`;
//! - with a projection, one module per layer: `{rnn}.{k}.weight_ih_l0` …, and
//!   `{proj}.{k−1}.weight` `[P, D·H]`, `{proj}.{k−1}.bias` `[P]` before layer k;
//! - `{fc}.weight` `[C, D·H]`, `{fc}.bias` `[C]`.
//!
//! Rows of `weight_ih`/`weight_hh` are PyTorch's gate blocks: i, f, g, o (LSTM), r, z, n (GRU).

use super::config::{RnnConfig, TensorNames};

/// One direction of one recurrent layer.
#[derive(Clone, Debug, PartialEq)]
pub struct DirectionParams {
    /// `[G·H, in]` row-major.
    pub w_ih: Vec<f32>,
    /// `[G·H, H]` row-major.
    pub w_hh: Vec<f32>,
    /// `[G·H]`.
    pub b_ih: Vec<f32>,
    /// `[G·H]`.
    pub b_hh: Vec<f32>,
}

/// All weights of an LSTM/GRU model.
#[derive(Clone, Debug, PartialEq)]
pub struct RnnParams {
    pub config: RnnConfig,
    /// `layers[k][d]`: layer k, direction d (0 forward, 1 reverse).
    pub layers: Vec<Vec<DirectionParams>>,
    /// `proj[k−1]` = (weight `[P, D·H]`, bias `[P]`) in front of layer k.
    pub proj: Vec<(Vec<f32>, Vec<f32>)>,
    /// `[C, D·H]`.
    pub fc_weight: Vec<f32>,
    /// `[C]`.
    pub fc_bias: Vec<f32>,
}

fn join(prefix: &str, rest: &str) -> String {
    if prefix.is_empty() {
        rest.to_string()
    } else {
        format!("{prefix}.{rest}")
    }
}

/// The name of one recurrent tensor (`what` = `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`).
pub fn recurrent_name(config: &RnnConfig, layer: usize, direction: usize, what: &str) -> String {
    let names: &TensorNames = &config.names;
    let sfx = if direction == 1 { "_reverse" } else { "" };
    match config.projection {
        None => join(&names.rnn, &format!("{what}_l{layer}{sfx}")),
        Some(_) => join(&names.rnn, &format!("{layer}.{what}_l0{sfx}")),
    }
}

/// Every tensor the config needs, `(name, shape)`, in the order of [`RnnParams::named`].
pub fn expected_tensors(config: &RnnConfig) -> Vec<(String, Vec<usize>)> {
    let g = config.gate_rows();
    let h = config.hidden;
    let mut out = Vec::new();
    for k in 0..config.layers {
        if k > 0 {
            if let Some(p) = config.projection {
                let base = join(&config.names.proj, &(k - 1).to_string());
                out.push((format!("{base}.weight"), vec![p, config.layer_output()]));
                out.push((format!("{base}.bias"), vec![p]));
            }
        }
        for d in 0..config.directions() {
            let name = |what| recurrent_name(config, k, d, what);
            out.push((name("weight_ih"), vec![g, config.layer_input(k)]));
            out.push((name("weight_hh"), vec![g, h]));
            out.push((name("bias_ih"), vec![g]));
            out.push((name("bias_hh"), vec![g]));
        }
    }
    out.push((
        join(&config.names.fc, "weight"),
        vec![config.classes, config.layer_output()],
    ));
    out.push((join(&config.names.fc, "bias"), vec![config.classes]));
    out
}

impl RnnParams {
    /// The tensors in the order of [`expected_tensors`], with their names.
    pub fn named(&self) -> Vec<(String, &[f32])> {
        let mut values: Vec<&[f32]> = Vec::new();
        for (k, dirs) in self.layers.iter().enumerate() {
            if k > 0 {
                if let Some((w, b)) = self.proj.get(k - 1) {
                    values.push(w);
                    values.push(b);
                }
            }
            for d in dirs {
                values.extend([&d.w_ih[..], &d.w_hh, &d.b_ih, &d.b_hh]);
            }
        }
        values.push(&self.fc_weight);
        values.push(&self.fc_bias);
        expected_tensors(&self.config)
            .into_iter()
            .zip(values)
            .map(|((n, _), v)| (n, v))
            .collect()
    }

    /// Builds the parameters from values in the order of [`expected_tensors`] (shapes already
    /// checked by the caller).
    pub fn from_ordered(config: &RnnConfig, values: Vec<Vec<f32>>) -> Self {
        let mut it = values.into_iter();
        let mut next = || it.next().expect("one value per expected tensor");
        let mut layers = Vec::with_capacity(config.layers);
        let mut proj = Vec::new();
        for k in 0..config.layers {
            if k > 0 && config.projection.is_some() {
                let w = next();
                proj.push((w, next()));
            }
            let dirs = (0..config.directions())
                .map(|_| DirectionParams {
                    w_ih: next(),
                    w_hh: next(),
                    b_ih: next(),
                    b_hh: next(),
                })
                .collect();
            layers.push(dirs);
        }
        let fc_weight = next();
        let fc_bias = next();
        Self {
            config: config.clone(),
            layers,
            proj,
            fc_weight,
            fc_bias,
        }
    }

    /// The weight matrix (row-major, rows × cols) of a matrix layer for one direction: the
    /// input layer `L{k}` stacks both directions' `W_ih` rows, as one product computes them.
    pub fn stacked_input(&self, layer: usize) -> Vec<f32> {
        self.layers[layer]
            .iter()
            .flat_map(|d| d.w_ih.iter().copied())
            .collect()
    }
}
