//! The exported LSTM/GRU model: the same two files as the SRU's ([`super::format`]), tagged
//! with the model's kind.
//!
//! `FILE` holds one packed matrix per slot of [`RnnQuantized::matrix_slots`]: `L{k}` (both
//! directions' `W_ih` stacked, as one product computes them), `R{k}` and `R{k}_reverse` (each
//! direction's `W_hh`), `P{k}`, `FC`, each at its exported width. The companion holds the
//! biases under their PyTorch names, the decoder statistics and the model config (the keys of
//! [`RnnBundle::metadata`]), the kind ([`KIND_KEY`]: `lstm`/`gru`) and format version, the
//! widths ([`BITS_KEY`]: the genes of the model's independent codec order) and the activation
//! thresholds frozen on the optimisation subset ([`ALPHAS_KEY`]). No float copy of a matrix:
//! reading it back gives the packed matrices that [`RnnQuantized`] then uses as they are, so
//! recognition with an export is the evaluator's quantized inference at the same widths.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use mohaq_precision::{GeneCodec, GeneLayout, LayerWidths};
use mohaq_quant::{load_packed, PackedMatrix};

use super::error::DeployError;
use super::format::{
    check_kind, companion_path, create_parent, tag, write_packed_last, ExportedFiles, ALPHAS_KEY,
    BITS_KEY,
};
use crate::model::params::{read_tensors, write_tensors};
use crate::rnn::import::map_tensor_map;
use crate::rnn::params::expected_tensors;
use crate::rnn::quantized::matrix_slots;
use crate::rnn::{Architecture, RnnBundle, RnnConfig, RnnLayerKind, RnnQuantized};

/// The packed file's name of a matrix slot: the layer's name, `_reverse` for direction 1.
pub fn slot_name(config: &RnnConfig, pos: usize, dir: usize) -> String {
    let name = &config.matrix_layers()[pos].name;
    if dir == 1 {
        format!("{name}_reverse")
    } else {
        name.clone()
    }
}

/// The widths as the genes of `config`'s independent codec order, comma separated (what
/// [`RnnConfig::parse_bits`] reads back).
pub fn genes_text(config: &RnnConfig, widths: &[LayerWidths]) -> String {
    GeneCodec::new(config.layer_table(), GeneLayout::Independent)
        .encode(widths)
        .unwrap_or_default()
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Writes `out` (the packed weights of `engine` at `widths`) and its companion: `decoder`'s
/// statistics, the engine's biases, the widths and the frozen thresholds `alphas`.
pub fn write_exported_rnn(
    out: &Path,
    decoder: &RnnBundle,
    engine: &RnnQuantized,
    widths: &[LayerWidths],
    alphas: &[f32],
) -> Result<ExportedFiles, DeployError> {
    let params = engine.params();
    let config = &params.config;
    let companion = companion_path(out);
    check_threshold_count(&companion, alphas.len(), widths.len())?;
    let packed = engine
        .packed_weights(widths)
        .map_err(|e| DeployError::file(out, e))?;
    create_parent(out)?;
    let bundle = RnnBundle {
        params: params.clone(),
        ..decoder.clone()
    };
    let fail = |e: &dyn std::fmt::Display| DeployError::file(&companion, e);
    let mut meta = bundle.metadata(&companion).map_err(|e| fail(&e))?;
    tag(&mut meta, config.kind.name().to_ascii_lowercase().as_str());
    let genes = genes_text(config, widths);
    meta.insert(BITS_KEY.into(), genes.clone());
    meta.insert(
        ALPHAS_KEY.into(),
        serde_json::to_string(alphas).map_err(|e| fail(&e))?,
    );
    // Biases only: every matrix (a 2-D tensor) lives in the packed file.
    let tensors: Vec<(String, Vec<usize>, &[f32])> = params
        .named()
        .into_iter()
        .zip(expected_tensors(config))
        .filter(|(_, (_, shape))| shape.len() == 1)
        .map(|((name, data), (_, shape))| (name, shape, data))
        .collect();
    write_tensors(&companion, &tensors, meta).map_err(|e| fail(&e))?;
    let names: Vec<String> = engine
        .matrix_slots()
        .into_iter()
        .map(|(pos, dir)| slot_name(config, pos, dir))
        .collect();
    let packed_bytes = write_packed_last(
        out,
        &companion,
        names
            .iter()
            .map(String::as_str)
            .zip(packed.iter().map(|m| &**m)),
    )?;
    Ok(ExportedFiles {
        packed: out.to_path_buf(),
        companion,
        genes,
        packed_bytes,
    })
}

/// An exported LSTM/GRU model as read back: the engine with the packed weights in place, the
/// decoder statistics, the exported widths and the frozen thresholds.
pub struct ExportedRnn {
    /// Decoder statistics and config; its matrices are the packed weights dequantized.
    pub bundle: RnnBundle,
    pub engine: RnnQuantized,
    pub widths: Vec<LayerWidths>,
    pub alphas: Vec<f32>,
}

/// Reads an exported LSTM/GRU model (`model` and its companion), every matrix checked by name,
/// shape and width against the companion's config and widths.
pub fn read_exported_rnn(model: &Path) -> Result<ExportedRnn, DeployError> {
    let companion = companion_path(model);
    let config =
        match Architecture::stored(&companion).map_err(|e| DeployError::file(&companion, e))? {
            Some(Architecture::Rnn(c)) => c,
            Some(Architecture::Sru(_)) => {
                return Err(DeployError::file(
                    &companion,
                    "holds an SRU model config, not an LSTM/GRU one",
                ))
            }
            None => {
                return Err(DeployError::file(
                    &companion,
                    "stores no model config (not the companion of a `mohaq export` model?)",
                ))
            }
        };
    let (mut tensors, meta) =
        read_tensors(&companion).map_err(|e| DeployError::file(&companion, e))?;
    check_kind(&meta, &companion, &config.kind.name().to_ascii_lowercase())?;
    let widths = companion_widths(&config, &meta, &companion)?;
    let alphas: Vec<f32> = meta
        .get(ALPHAS_KEY)
        .ok_or_else(|| DeployError::file(&companion, format!("metadata `{ALPHAS_KEY}` is missing")))
        .and_then(|a| {
            serde_json::from_str(a)
                .map_err(|e| DeployError::file(&companion, format!("metadata `{ALPHAS_KEY}`: {e}")))
        })?;
    check_threshold_count(&companion, alphas.len(), widths.len())?;
    // The matrices, dequantized, complete the parameter set the engine's biases come from;
    // the packed matrices themselves are what the engine multiplies with.
    let packed = read_packed_rnn(model, &config, &widths)?;
    fill_matrices(&config, &mut tensors, &packed);
    let params = map_tensor_map(&companion, &config, tensors)
        .map_err(|e| DeployError::file(&companion, e))?;
    let (bigram, priors, decoder_params) =
        crate::model::bundle::decoder_statistics(&meta, &companion)
            .map_err(|e| DeployError::file(&companion, e))?;
    let engine = RnnQuantized::new(params.clone());
    for ((pos, dir), m) in engine.matrix_slots().into_iter().zip(packed) {
        engine.preload(pos, dir, m);
    }
    Ok(ExportedRnn {
        bundle: RnnBundle {
            params,
            bigram,
            priors,
            decoder_params,
        },
        engine,
        widths,
        alphas,
    })
}

/// The exported widths of a companion's metadata, decoded by the model's codec: a gene count
/// other than one per layer or two per layer is refused by name.
fn companion_widths(
    config: &RnnConfig,
    meta: &HashMap<String, String>,
    companion: &Path,
) -> Result<Vec<LayerWidths>, DeployError> {
    let text = meta.get(BITS_KEY).ok_or_else(|| {
        DeployError::file(
            companion,
            format!(
                "metadata `{BITS_KEY}` is missing (not the companion of a `mohaq export` model?)"
            ),
        )
    })?;
    let layers = config.matrix_layers().len();
    let count = text.split(',').count();
    if count != layers && count != 2 * layers {
        return Err(DeployError::file(
            companion,
            format!(
                "metadata `{BITS_KEY}` = `{text}` has {count} genes; the {} model `{}` has \
                 {layers} matrix layers, so {} genes (or {layers} shared)",
                config.kind.name(),
                config.name,
                2 * layers
            ),
        ));
    }
    config
        .parse_bits(text)
        .map_err(|e| DeployError::file(companion, format!("metadata `{BITS_KEY}`: {e}")))
}

/// The PyTorch names and shapes of the 2-D tensors (the matrices), in [`expected_tensors`]
/// order.
fn matrix_tensors(config: &RnnConfig) -> Vec<(String, Vec<usize>)> {
    expected_tensors(config)
        .into_iter()
        .filter(|(_, shape)| shape.len() == 2)
        .collect()
}

/// Puts the dequantized packed matrices under their PyTorch names: `L{k}` split back into the
/// directions' `W_ih`, `R{k}` per direction `W_hh`, `P{k}` and `FC` as they are.
fn fill_matrices(
    config: &RnnConfig,
    tensors: &mut crate::model::params::TensorMap,
    packed: &[Arc<PackedMatrix>],
) {
    let mut names = matrix_tensors(config).into_iter();
    let slot: HashMap<(usize, usize), &Arc<PackedMatrix>> =
        matrix_slots(config).into_iter().zip(packed).collect();
    let value =
        |kind: RnnLayerKind, dir: usize| slot[&(config.layer_position(kind), dir)].dequantize();
    // `expected_tensors` order: per layer (projection first), per direction W_ih then W_hh;
    // then FC.
    let mut ordered: Vec<Vec<f32>> = Vec::new();
    for k in 0..config.layers {
        if k > 0 && config.projection.is_some() {
            ordered.push(value(RnnLayerKind::Projection { index: k }, 0));
        }
        let stacked = value(RnnLayerKind::Input { layer: k }, 0);
        let per_dir = stacked.len() / config.directions();
        for d in 0..config.directions() {
            ordered.push(stacked[d * per_dir..(d + 1) * per_dir].to_vec());
            ordered.push(value(RnnLayerKind::Recurrent { layer: k }, d));
        }
    }
    ordered.push(value(RnnLayerKind::Output, 0));
    for v in ordered {
        let (name, shape) = names.next().expect("one name per matrix");
        tensors.insert(name, (shape, v));
    }
}

/// The packed weights of `model` in slot order, each checked for presence, shape and width.
fn read_packed_rnn(
    model: &Path,
    config: &RnnConfig,
    widths: &[LayerWidths],
) -> Result<Vec<Arc<PackedMatrix>>, DeployError> {
    let packed = load_packed(model).map_err(|e| DeployError::file(model, e))?;
    let layers = config.matrix_layers();
    let cols = |pos: usize| match layers[pos].kind {
        RnnLayerKind::Recurrent { .. } => config.hidden,
        _ => layers[pos].in_dim,
    };
    let rows = |pos: usize| match layers[pos].kind {
        RnnLayerKind::Recurrent { .. } => config.gate_rows(),
        _ => layers[pos].out_dim,
    };
    matrix_slots(config)
        .into_iter()
        .map(|(pos, dir)| {
            let name = slot_name(config, pos, dir);
            let w = u32::from(widths[pos].weight);
            let m = packed
                .get(&name)
                .ok_or_else(|| DeployError::file(model, format!("matrix `{name}` is missing")))?;
            if m.bits().bits() != w || m.rows() != rows(pos) || m.cols() != cols(pos) {
                return Err(DeployError::file(
                    model,
                    format!(
                        "matrix `{name}` is {}x{} at {} bits, the companion says {}x{} at {w}",
                        m.rows(),
                        m.cols(),
                        m.bits().bits(),
                        rows(pos),
                        cols(pos)
                    ),
                ));
            }
            Ok(Arc::new(m.clone()))
        })
        .collect()
}

/// One frozen activation threshold per matrix layer, checked the same way on write and read.
fn check_threshold_count(
    companion: &Path,
    thresholds: usize,
    layers: usize,
) -> Result<(), DeployError> {
    if thresholds != layers {
        return Err(DeployError::file(
            companion,
            format!("{thresholds} activation thresholds for {layers} layers"),
        ));
    }
    Ok(())
}
