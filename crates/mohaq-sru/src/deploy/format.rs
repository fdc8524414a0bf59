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
/// Metadata key of the exported model's kind: `sru`, `lstm` or `gru` (an export without it is
/// an SRU export of format version 1, written before LSTM/GRU exports existed).
pub const KIND_KEY: &str = "mohaq_export_kind";
/// Metadata key of the export format version ([`FORMAT_VERSION`]).
pub const VERSION_KEY: &str = "mohaq_export_version";
/// The export format version this code writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The kind and version tags of an export's companion metadata.
pub(crate) fn tag(meta: &mut std::collections::HashMap<String, String>, kind: &str) {
    meta.insert(KIND_KEY.into(), kind.into());
    meta.insert(VERSION_KEY.into(), FORMAT_VERSION.to_string());
}

/// The kind an export's companion is tagged with (`sru` when untagged: exports before the
/// tag), after checking the format version; an unknown version is refused by name.
pub fn exported_kind(companion: &Path) -> Result<String, DeployError> {
    let (_, meta) = read_tensors(companion).map_err(|e| DeployError::file(companion, e))?;
    kind_of_meta(&meta, companion)
}

fn kind_of_meta(
    meta: &std::collections::HashMap<String, String>,
    companion: &Path,
) -> Result<String, DeployError> {
    if let Some(v) = meta.get(VERSION_KEY) {
        if v.trim() != FORMAT_VERSION.to_string() {
            return Err(DeployError::file(
                companion,
                format!(
                    "export format version `{v}` (metadata `{VERSION_KEY}`); this mohaq reads \
                     version {FORMAT_VERSION}: export the solution again with this mohaq"
                ),
            ));
        }
    }
    Ok(meta.get(KIND_KEY).cloned().unwrap_or_else(|| "sru".into()))
}

/// Refuses a companion tagged with another kind than `expected`.
pub(crate) fn check_kind(
    meta: &std::collections::HashMap<String, String>,
    companion: &Path,
    expected: &str,
) -> Result<(), DeployError> {
    let kind = kind_of_meta(meta, companion)?;
    if kind != expected {
        return Err(DeployError::file(
            companion,
            format!(
                "an export of kind `{kind}` (metadata `{KIND_KEY}`), but its stored model config \
                 is a{} {expected} model: the companion is damaged or belongs to another export",
                if expected == "sru" { "n" } else { "" }
            ),
        ));
    }
    Ok(())
}

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
    create_parent(out)?;
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
    tag(&mut meta, "sru");
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
    let packed_bytes = write_packed_last(
        out,
        &companion,
        layers
            .iter()
            .zip(packed)
            .map(|(l, m)| (l.name.as_str(), &**m)),
    )?;
    Ok(ExportedFiles {
        packed: out.to_path_buf(),
        companion,
        genes,
        packed_bytes,
    })
}

/// Writes the packed weights to `out` once `companion` is complete, so the exported file
/// exists only with its companion (both atomically: a kill never leaves a partial file under
/// either name), clears an earlier killed export's temporaries and returns the packed size.
pub(crate) fn write_packed_last<'a>(
    out: &Path,
    companion: &Path,
    matrices: impl IntoIterator<Item = (&'a str, &'a PackedMatrix)>,
) -> Result<u64, DeployError> {
    save_packed(out, matrices).map_err(|e| DeployError::file(out, e))?;
    for path in [out, companion] {
        mohaq_fsio::remove_stale_temps(path);
    }
    Ok(std::fs::metadata(out)
        .map_err(|e| DeployError::file(out, format!("reading the exported file: {e}")))?
        .len())
}

/// Creates the folder `out` goes into.
pub(crate) fn create_parent(out: &Path) -> Result<(), DeployError> {
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| DeployError::file(parent, format!("creating the output folder: {e}")))?;
    }
    Ok(())
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
    check_kind(&meta, companion, "sru")?;
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
