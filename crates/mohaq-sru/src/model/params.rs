//! Model parameters as plain `f32` arrays, their initialisation (METHOD §3) and their safetensors
//! format with stable tensor names.
//!
//! Tensor names and shapes (H = hidden, k = 4 blocks in layer 0 and 3 elsewhere):
//! - `sru{i}.weight` `[2·k·H, in]`, rows ordered direction (fwd, bwd), block (candidate, forget,
//!   reset[, highway]), unit;
//! - `sru{i}.v_f`, `sru{i}.v_r`, `sru{i}.b_f`, `sru{i}.b_r` `[2, H]` (direction, unit);
//! - `proj{i}.weight` `[P, 2H]` for i = 1..n−1 (no bias: a low-rank factorisation);
//! - `fc.weight` `[C, 2H]`, `fc.bias` `[C]`.
//!
//! Plain arrays (not candle tensors) are the exchange format because quantized inference and the
//! hardware models never need candle.

use std::collections::HashMap;
use std::path::Path;

use rand::Rng;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::config::ModelConfig;
use super::error::ModelError;
use super::layers::LayerKind;

/// Parameters of one bidirectional SRU layer.
#[derive(Clone, Debug, PartialEq)]
pub struct SruLayerParams {
    /// `[2·k·H, in]` row-major.
    pub weight: Vec<f32>,
    /// `[2, H]` recurrent weight of the forget gate.
    pub v_f: Vec<f32>,
    /// `[2, H]` recurrent weight of the reset gate.
    pub v_r: Vec<f32>,
    /// `[2, H]` forget-gate bias.
    pub b_f: Vec<f32>,
    /// `[2, H]` reset-gate bias.
    pub b_r: Vec<f32>,
}

/// All parameters of the model.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelParams {
    pub config: ModelConfig,
    pub sru: Vec<SruLayerParams>,
    /// `proj[i-1]` is P_i, `[P, 2H]`.
    pub proj: Vec<Vec<f32>>,
    /// `[C, 2H]`.
    pub fc_weight: Vec<f32>,
    /// `[C]`.
    pub fc_bias: Vec<f32>,
}

/// Tensors read from or written to a safetensors file: name → (shape, values).
pub type TensorMap = HashMap<String, (Vec<usize>, Vec<f32>)>;

/// The stored name of a matrix layer's weights (`sru0.weight`, `proj1.weight`, `fc.weight`).
pub fn matrix_tensor_name(kind: LayerKind) -> String {
    match kind {
        LayerKind::Sru { index } => format!("sru{index}.weight"),
        LayerKind::Projection { index } => format!("proj{index}.weight"),
        LayerKind::Output => "fc.weight".to_string(),
    }
}

fn uniform(rng: &mut ChaCha8Rng, n: usize, bound: f32) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-bound..=bound)).collect()
}

impl ModelParams {
    /// Initialises as METHOD §3: W ~ U(±sqrt(3/d_in)), v ~ U(±sqrt(3))·sqrt(0.5), b_f = 0,
    /// b_r = highway_bias. Deterministic in `seed`.
    pub fn init(config: &ModelConfig, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let h = config.hidden;
        let two_h = config.layer_output();
        let v_bound = 3f32.sqrt() * 0.5f32.sqrt();
        let sru = (0..config.layers)
            .map(|i| {
                let d_in = config.sru_input(i);
                let rows = 2 * config.blocks(i) * h;
                SruLayerParams {
                    weight: uniform(&mut rng, rows * d_in, (3.0 / d_in as f32).sqrt()),
                    v_f: uniform(&mut rng, 2 * h, v_bound),
                    v_r: uniform(&mut rng, 2 * h, v_bound),
                    b_f: vec![0.0; 2 * h],
                    b_r: vec![config.highway_bias; 2 * h],
                }
            })
            .collect();
        let proj = (1..config.layers)
            .map(|_| {
                uniform(
                    &mut rng,
                    config.projection * two_h,
                    (3.0 / two_h as f32).sqrt(),
                )
            })
            .collect();
        let fc_weight = uniform(
            &mut rng,
            config.classes * two_h,
            (3.0 / two_h as f32).sqrt(),
        );
        Self {
            config: config.clone(),
            sru,
            proj,
            fc_weight,
            fc_bias: vec![0.0; config.classes],
        }
    }

    /// Stable names and shapes of every tensor the config needs, in a fixed order.
    pub fn expected_shapes(config: &ModelConfig) -> Vec<(String, Vec<usize>)> {
        let h = config.hidden;
        let two_h = config.layer_output();
        let mut out = Vec::new();
        for i in 0..config.layers {
            let rows = 2 * config.blocks(i) * h;
            out.push((
                matrix_tensor_name(LayerKind::Sru { index: i }),
                vec![rows, config.sru_input(i)],
            ));
            for p in ["v_f", "v_r", "b_f", "b_r"] {
                out.push((format!("sru{i}.{p}"), vec![2, h]));
            }
        }
        for i in 1..config.layers {
            out.push((
                matrix_tensor_name(LayerKind::Projection { index: i }),
                vec![config.projection, two_h],
            ));
        }
        out.push((
            matrix_tensor_name(LayerKind::Output),
            vec![config.classes, two_h],
        ));
        out.push(("fc.bias".to_string(), vec![config.classes]));
        out
    }

    /// Every tensor with its stable name, in the order of [`Self::expected_shapes`].
    pub fn named(&self) -> Vec<(String, &[f32])> {
        let mut out: Vec<(String, &[f32])> = Vec::new();
        for (i, l) in self.sru.iter().enumerate() {
            out.push((matrix_tensor_name(LayerKind::Sru { index: i }), &l.weight));
            out.push((format!("sru{i}.v_f"), &l.v_f));
            out.push((format!("sru{i}.v_r"), &l.v_r));
            out.push((format!("sru{i}.b_f"), &l.b_f));
            out.push((format!("sru{i}.b_r"), &l.b_r));
        }
        for (i, p) in self.proj.iter().enumerate() {
            out.push((
                matrix_tensor_name(LayerKind::Projection { index: i + 1 }),
                p,
            ));
        }
        out.push((matrix_tensor_name(LayerKind::Output), &self.fc_weight));
        out.push(("fc.bias".to_string(), &self.fc_bias));
        out
    }

    /// Builds parameters from named tensors, checking presence, shape and finiteness of each.
    pub fn from_tensor_map(
        config: &ModelConfig,
        map: &mut TensorMap,
        prefix: &str,
        path: &Path,
    ) -> Result<Self, ModelError> {
        let mut take = |name: &str, shape: &[usize]| -> Result<Vec<f32>, ModelError> {
            let key = format!("{prefix}{name}");
            let (found, data) = map.remove(&key).ok_or_else(|| ModelError::MissingTensor {
                path: path.to_path_buf(),
                name: key.clone(),
            })?;
            if found != shape {
                return Err(ModelError::ShapeMismatch {
                    path: path.to_path_buf(),
                    name: key,
                    expected: shape.to_vec(),
                    found,
                });
            }
            if let Some(index) = data.iter().position(|x| !x.is_finite()) {
                return Err(ModelError::NonFinite {
                    path: path.to_path_buf(),
                    name: key,
                    index,
                });
            }
            Ok(data)
        };
        let shapes: HashMap<String, Vec<usize>> =
            Self::expected_shapes(config).into_iter().collect();
        let shape = |n: &str| shapes[n].clone();
        let mut sru = Vec::with_capacity(config.layers);
        for i in 0..config.layers {
            sru.push(SruLayerParams {
                weight: take(&format!("sru{i}.weight"), &shape(&format!("sru{i}.weight")))?,
                v_f: take(&format!("sru{i}.v_f"), &shape(&format!("sru{i}.v_f")))?,
                v_r: take(&format!("sru{i}.v_r"), &shape(&format!("sru{i}.v_r")))?,
                b_f: take(&format!("sru{i}.b_f"), &shape(&format!("sru{i}.b_f")))?,
                b_r: take(&format!("sru{i}.b_r"), &shape(&format!("sru{i}.b_r")))?,
            });
        }
        let mut proj = Vec::new();
        for i in 1..config.layers {
            let n = format!("proj{i}.weight");
            proj.push(take(&n, &shape(&n))?);
        }
        let fc_weight = take("fc.weight", &shape("fc.weight"))?;
        let fc_bias = take("fc.bias", &shape("fc.bias"))?;
        Ok(Self {
            config: config.clone(),
            sru,
            proj,
            fc_weight,
            fc_bias,
        })
    }

    /// Loads weights saved by [`Self::save`], checking every tensor against `config`.
    /// Returns the file's string metadata too (e.g. decoder statistics).
    pub fn load(
        config: &ModelConfig,
        path: &Path,
    ) -> Result<(Self, HashMap<String, String>), ModelError> {
        let (mut map, meta) = read_tensors(path)?;
        let params = Self::from_tensor_map(config, &mut map, "", path)?;
        Ok((params, meta))
    }

    /// Writes the weights atomically (temporary file, then rename) with string metadata.
    pub fn save(&self, path: &Path, metadata: HashMap<String, String>) -> Result<(), ModelError> {
        let shapes = Self::expected_shapes(&self.config);
        let tensors: Vec<(String, Vec<usize>, &[f32])> = self
            .named()
            .into_iter()
            .zip(shapes)
            .map(|((n, d), (_, s))| (n, s, d))
            .collect();
        write_tensors(path, &tensors, metadata)
    }
}

fn weights_err(path: &Path, message: impl Into<String>) -> ModelError {
    ModelError::Weights {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Writes f32 tensors to a safetensors file atomically: a sibling temporary file is written and
/// synced, then renamed over `path`, so a crash never leaves a half-written file behind.
pub fn write_tensors(
    path: &Path,
    tensors: &[(String, Vec<usize>, &[f32])],
    metadata: HashMap<String, String>,
) -> Result<(), ModelError> {
    write_tensors_as(path, tensors, metadata, safetensors::Dtype::F32)
}

/// [`write_tensors`] with half-precision (f16) storage: a shipped bundle at half the size;
/// [`read_tensors`] widens it back to f32.
pub fn write_tensors_f16(
    path: &Path,
    tensors: &[(String, Vec<usize>, &[f32])],
    metadata: HashMap<String, String>,
) -> Result<(), ModelError> {
    write_tensors_as(path, tensors, metadata, safetensors::Dtype::F16)
}

fn write_tensors_as(
    path: &Path,
    tensors: &[(String, Vec<usize>, &[f32])],
    metadata: HashMap<String, String>,
    dtype: safetensors::Dtype,
) -> Result<(), ModelError> {
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, _, d)| match dtype {
            safetensors::Dtype::F16 => d
                .iter()
                .flat_map(|&x| half::f16::from_f32(x).to_le_bytes())
                .collect(),
            _ => d.iter().flat_map(|x| x.to_le_bytes()).collect(),
        })
        .collect();
    let mut views = Vec::with_capacity(tensors.len());
    for ((name, shape, _), b) in tensors.iter().zip(&bytes) {
        let view = safetensors::tensor::TensorView::new(dtype, shape.clone(), b.as_slice())
            .map_err(|e| weights_err(path, format!("tensor `{name}`: {e}")))?;
        views.push((name.clone(), view));
    }
    let data = safetensors::serialize(views, Some(metadata))
        .map_err(|e| weights_err(path, e.to_string()))?;
    let io = |source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    };
    mohaq_fsio::write_atomic(path, &data).map_err(io)
}

/// Reads every tensor of a safetensors file as f32, with the file's string metadata.
pub fn read_tensors(path: &Path) -> Result<(TensorMap, HashMap<String, String>), ModelError> {
    let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let (st, meta) =
        mohaq_quant::safetensors_file::parse(&bytes).map_err(|e| weights_err(path, e))?;
    let mut map = TensorMap::new();
    for name in st.names() {
        let view = st
            .tensor(name)
            .map_err(|e| weights_err(path, format!("tensor `{name}`: {e}")))?;
        let data = match view.dtype() {
            safetensors::Dtype::F32 => view
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            // Half-precision storage keeps a shipped bundle small; the model computes in f32.
            safetensors::Dtype::F16 => view
                .data()
                .chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            other => {
                return Err(weights_err(
                    path,
                    format!(
                        "tensor `{name}` has dtype {other:?}, expected F32 (or F16): this looks \
                         like a quantized model written by `mohaq export` (packed integer \
                         weights), which only `mohaq infer` reads; give this command a float \
                         model bundle such as models/sru-default.safetensors"
                    ),
                ))
            }
        };
        map.insert(name.to_string(), (view.shape().to_vec(), data));
    }
    Ok((map, meta))
}
