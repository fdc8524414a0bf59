//! The exported quantized model: two files.
//!
//! `FILE` holds the packed integer weights of the matrix layers in mohaq-quant's export format
//! (`save_packed`: per matrix its width, column count, α and scale in the header metadata); the
//! companion [`companion_path`] holds everything else the integer engine needs and nothing more —
//! elementwise parameters and biases, the decoder statistics (state priors, phone bigram), the
//! model config — plus the widths ([`BITS_KEY`]) and the activation thresholds frozen on the
//! optimisation subset ([`ALPHAS_KEY`]). It has no float copy of the matrices: an export runs
//! only at its own widths, so the packed file is the one place the weights live (a companion of
//! an older export that still holds float matrices is read, its matrices ignored).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mohaq_quant::{load_packed, save_packed, PackedMatrix};

use super::error::DeployError;
use crate::model::params::{matrix_tensor_name, read_tensors, write_tensors, TensorMap};
use crate::model::{ModelBundle, ModelConfig, ModelParams};
use crate::quantized::BitConfig;

/// Metadata key of the exported widths (the genes in the paper's order, comma separated).
pub const BITS_KEY: &str = "mohaq_export_bits";
/// Metadata key of the frozen activation thresholds (JSON array, one per matrix layer).
pub const ALPHAS_KEY: &str = "mohaq_export_alphas";

/// The companion file of an exported model: `model.q.safetensors` → `model.q.rest.safetensors`.
pub fn companion_path(model: &Path) -> PathBuf {
    let stem = model
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    model.with_file_name(format!("{stem}.rest.safetensors"))
}

/// What [`write_exported`] wrote.
#[derive(Debug, Clone)]
pub struct ExportedFiles {
    pub packed: PathBuf,
    pub companion: PathBuf,
    /// The widths as stored under [`BITS_KEY`].
    pub genes: String,
    pub packed_bytes: u64,
}

/// Writes `out` (the `packed` weights, in layer order) and its companion: `params`' elementwise
/// parameters with the dequantized matrices, `decoder`'s statistics, `bits` and `alphas`.
pub fn write_exported(
    out: &Path,
    decoder: &ModelBundle,
    params: &ModelParams,
    bits: &BitConfig,
    packed: &[Arc<PackedMatrix>],
    alphas: &[f32],
) -> Result<ExportedFiles, DeployError> {
    let layers = params.config.matrix_layers();
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| DeployError::file(parent, format!("creating the output folder: {e}")))?;
    }
    // Companion: every tensor except the matrices, then the export's own metadata.
    let bundle = ModelBundle {
        params: params.clone(),
        bigram: decoder.bigram.clone(),
        priors: decoder.priors.clone(),
        decoder_params: decoder.decoder_params.clone(),
    };
    let companion = companion_path(out);
    let fail = |e: &dyn std::fmt::Display| DeployError::file(&companion, e);
    let mut meta = bundle.metadata(&companion).map_err(|e| fail(&e))?;
    let genes = bits.to_string();
    meta.insert(BITS_KEY.into(), genes.clone());
    meta.insert(
        ALPHAS_KEY.into(),
        serde_json::to_string(alphas).map_err(|e| fail(&e))?,
    );
    let matrices: Vec<String> = layers.iter().map(|l| matrix_tensor_name(l.kind)).collect();
    let tensors: Vec<(String, Vec<usize>, &[f32])> = params
        .named()
        .into_iter()
        .zip(ModelParams::expected_shapes(&params.config))
        .filter(|((name, _), _)| !matrices.contains(name))
        .map(|((name, data), (_, shape))| (name, shape, data))
        .collect();
    write_tensors(&companion, &tensors, meta).map_err(|e| fail(&e))?;
    // Last, so that the exported file exists only once its companion is complete; both are
    // written atomically (a kill never leaves a partial file under either name).
    save_packed(
        out,
        layers
            .iter()
            .zip(packed)
            .map(|(l, m)| (l.name.as_str(), &**m)),
    )
    .map_err(|e| DeployError::file(out, e))?;
    // An export killed earlier left at most temporaries beside the two files: clear them.
    for path in [out, companion.as_path()] {
        mohaq_fsio::remove_stale_temps(path);
    }
    let packed_bytes = std::fs::metadata(out)
        .map_err(|e| DeployError::file(out, format!("reading the exported file: {e}")))?
        .len();
    Ok(ExportedFiles {
        packed: out.to_path_buf(),
        companion,
        genes,
        packed_bytes,
    })
}

/// An exported model as read back: the companion bundle, the exported widths, the frozen
/// thresholds and the packed weights (in layer order, checked against the companion's shapes).
pub struct ExportedModel {
    pub bundle: ModelBundle,
    pub bits: BitConfig,
    pub alphas: Vec<f32>,
    pub weights: Vec<Arc<PackedMatrix>>,
}

/// The companion's non-matrix tensors and metadata: exported widths, frozen thresholds.
struct Companion {
    config: ModelConfig,
    tensors: TensorMap,
    meta: std::collections::HashMap<String, String>,
    bits: BitConfig,
    alphas: Vec<f32>,
}

fn read_companion(companion: &Path) -> Result<Companion, DeployError> {
    let config = stored_config(companion)?;
    let (tensors, meta) = read_tensors(companion).map_err(|e| DeployError::file(companion, e))?;
    let bits = meta
        .get(BITS_KEY)
        .ok_or_else(|| DeployError::file(companion, format!("metadata `{BITS_KEY}` is missing (not the companion of a `mohaq export` model?)")))
        .and_then(|g| BitConfig::parse(&config, g).map_err(|e| DeployError::file(companion, format!("metadata `{BITS_KEY}`: {e}"))))?;
    let alphas: Vec<f32> = meta
        .get(ALPHAS_KEY)
        .ok_or_else(|| DeployError::file(companion, format!("metadata `{ALPHAS_KEY}` is missing")))
        .and_then(|a| {
            serde_json::from_str(a)
                .map_err(|e| DeployError::file(companion, format!("metadata `{ALPHAS_KEY}`: {e}")))
        })?;
    if alphas.len() != config.matrix_layers().len() {
        return Err(DeployError::file(
            companion,
            format!(
                "{} activation thresholds for {} layers",
                alphas.len(),
                config.matrix_layers().len()
            ),
        ));
    }
    Ok(Companion {
        config,
        tensors,
        meta,
        bits,
        alphas,
    })
}

/// The exported widths of `model` (read from its companion), e.g. to compare with a request.
pub fn exported_bits(model: &Path) -> Result<BitConfig, DeployError> {
    Ok(read_companion(&companion_path(model))?.bits)
}

/// Reads an exported model: `model` (packed weights) and its companion. The in-memory bundle's
/// matrices are the packed weights dequantized (the engine's parameter set needs them), never a
/// float copy from the files.
pub fn read_exported(model: &Path) -> Result<ExportedModel, DeployError> {
    let companion_file = companion_path(model);
    let mut companion = read_companion(&companion_file)?;
    let weights = read_packed(model, &companion.config, &companion.bits)?;
    for (layer, m) in companion.config.matrix_layers().iter().zip(&weights) {
        companion.tensors.insert(
            matrix_tensor_name(layer.kind),
            (vec![m.rows(), m.cols()], m.dequantize()),
        );
    }
    let params = ModelParams::from_tensor_map(
        &companion.config,
        &mut companion.tensors,
        "",
        &companion_file,
    )
    .map_err(|e| DeployError::file(&companion_file, e))?;
    let bundle = ModelBundle::from_parts(params, &companion.meta, &companion_file)
        .map_err(|e| DeployError::file(&companion_file, e))?;
    Ok(ExportedModel {
        bundle,
        bits: companion.bits,
        alphas: companion.alphas,
        weights,
    })
}

/// The packed weights of `model` in layer order, checked against `config`'s shapes and `bits`.
pub fn read_packed(
    model: &Path,
    config: &ModelConfig,
    bits: &BitConfig,
) -> Result<Vec<Arc<PackedMatrix>>, DeployError> {
    let packed = load_packed(model).map_err(|e| DeployError::file(model, e))?;
    let layers = config.matrix_layers();
    layers
        .iter()
        .zip(&bits.layers)
        .map(|(l, b)| {
            let w = u32::from(b.weight);
            let m = packed.get(&l.name).ok_or_else(|| {
                DeployError::file(model, format!("matrix `{}` is missing", l.name))
            })?;
            if m.bits().bits() != w || m.rows() != l.out_dim || m.cols() != l.in_dim {
                return Err(DeployError::file(
                    model,
                    format!(
                        "matrix `{}` is {}x{} at {} bits, the companion says {}x{} at {w}",
                        l.name,
                        m.rows(),
                        m.cols(),
                        m.bits().bits(),
                        l.out_dim,
                        l.in_dim
                    ),
                ));
            }
            Ok(Arc::new(m.clone()))
        })
        .collect()
}

/// The model config a bundle stores.
pub fn stored_config(path: &Path) -> Result<ModelConfig, DeployError> {
    ModelBundle::stored_config(path)
        .map_err(|e| DeployError::file(path, e))?
        .ok_or_else(|| DeployError::file(path, "stores no model config (not a model bundle?)"))
}
