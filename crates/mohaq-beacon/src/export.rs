//! `mohaq export`: one front solution as a quantized model.
//!
//! Two files: `FILE` holds the packed integer weights of the eight matrix layers in mohaq-quant's
//! export format (`save_packed`: per matrix its width, column count, α and scale in the header
//! metadata); the companion [`companion_path`] is a model bundle with everything else the
//! integer engine needs — elementwise parameters and biases, the decoder statistics (state
//! priors, phone bigram), the model config — plus the activation widths and the activation
//! thresholds frozen on the optimisation subset. Its matrices hold the dequantized weights, so
//! the companion alone is also a valid float model of the quantized network.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mohaq_quant::{save_packed, PackedMatrix};
use mohaq_sru::model::params::read_tensors;
use mohaq_sru::model::{LayerKind, ModelBundle, ModelParams};
use mohaq_sru::quantized::QuantizedModel;
use serde::Serialize;

use crate::error::{ModelFailure, RunError};
use crate::experiment::Experiment;
use crate::genes::LayerBits;
use crate::run::{store_dir_for, FrontFile, RunOptions, EXPERIMENT_FILE};
use crate::sru_model::{bit_config, SruModel, SruWeights};
use crate::store::BeaconStore;

/// Metadata key of the exported widths (16 paper genes, comma separated).
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

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ExportSummary {
    pub packed: PathBuf,
    pub companion: PathBuf,
    pub genes: String,
    /// Retrained beacon whose weights were exported (None: the base model).
    pub beacon: Option<usize>,
    pub packed_bytes: u64,
    pub alphas: Vec<f32>,
}

fn io_err<'a>(
    path: &'a Path,
    action: &'static str,
) -> impl FnOnce(std::io::Error) -> RunError + 'a {
    move |source| RunError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

/// Exports solution `index` of the front in `run_dir` to `out` (and its companion). The model
/// and data are those of the run's experiment copy; relative paths in it are taken relative to
/// the current directory, the corpus from `data_override`, the experiment or the default.
pub fn export_solution(
    run_dir: &Path,
    index: usize,
    out: &Path,
    data_override: Option<&Path>,
) -> Result<ExportSummary, RunError> {
    let front = FrontFile::load(run_dir)?;
    let solution = front.solutions.get(index).ok_or_else(|| {
        RunError::Invalid(format!(
            "{}: the front has {} solutions (0..{}), there is no solution {index}",
            run_dir.display(),
            front.solutions.len(),
            front.solutions.len().saturating_sub(1)
        ))
    })?;
    let experiment = Experiment::from_file(&run_dir.join(EXPERIMENT_FILE))?;
    let model = SruModel::for_experiment(&experiment, Path::new("."), data_override)?;
    let beacon = solution.score.uses_beacon_weights();
    let weights = match beacon {
        None => None,
        Some(b) => {
            let record = front.beacons.iter().find(|r| r.index == b).ok_or_else(|| {
                RunError::Invalid(format!(
                    "{}: solution {index} uses beacon {b}, which the front does not list",
                    run_dir.display()
                ))
            })?;
            let store =
                BeaconStore::new(store_dir_for(&experiment, run_dir, &RunOptions::default()));
            let loaded = store.load(&record.key, &model)?.ok_or_else(|| {
                RunError::Invalid(format!(
                    "beacon {b} (`{}`) is not in the store {}",
                    record.key,
                    store.dir().display()
                ))
            })?;
            Some(loaded.weights)
        }
    };
    let mut summary = write_quantized(&model, weights.as_ref(), &solution.score.bits, out)?;
    summary.beacon = beacon;
    Ok(summary)
}

/// Quantizes the base (or a beacon's) weights at `bits`, freezes activation thresholds on the
/// model's optimisation subset and writes `out` and its companion.
pub fn write_quantized(
    model: &SruModel,
    weights: Option<&SruWeights>,
    bits: &LayerBits,
    out: &Path,
) -> Result<ExportSummary, RunError> {
    let config = bit_config(bits)?;
    let params: &ModelParams = weights.map_or(&model.bundle().params, |w| &w.params);
    let frozen = model.frozen_activations(bits, weights)?;
    let engine = QuantizedModel::new(params.clone());
    let packed: Vec<Arc<PackedMatrix>> = engine
        .weights(&config)
        .map_err(|e| ModelFailure::new("quantizing the weights", e))?;
    let layers = params.config.matrix_layers();
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io_err(parent, "creating the output folder"))?;
    }
    save_packed(
        out,
        layers
            .iter()
            .zip(&packed)
            .map(|(l, m)| (l.name.as_str(), &**m)),
    )
    .map_err(|e| ModelFailure::new(format!("writing {}", out.display()), e))?;

    // Companion: dequantized matrices + everything else, then the export's own metadata.
    let mut rest = params.clone();
    for (layer, m) in layers.iter().zip(&packed) {
        let values = m.dequantize();
        match layer.kind {
            LayerKind::Sru { index } => rest.sru[index].weight = values,
            LayerKind::Projection { index } => rest.proj[index - 1] = values,
            LayerKind::Output => rest.fc_weight = values,
        }
    }
    let bundle = ModelBundle {
        params: rest,
        bigram: model.bundle().bigram.clone(),
        priors: model.bundle().priors.clone(),
        decoder_params: model.bundle().decoder_params.clone(),
    };
    let companion = companion_path(out);
    let fail = |e: String| RunError::Invalid(format!("{}: {e}", companion.display()));
    bundle.save(&companion).map_err(|e| fail(e.to_string()))?;
    let (_, mut meta) = read_tensors(&companion).map_err(|e| fail(e.to_string()))?;
    let genes = bits
        .paper_genes()
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    meta.insert(BITS_KEY.into(), genes.clone());
    meta.insert(
        ALPHAS_KEY.into(),
        serde_json::to_string(&frozen.alphas).map_err(|e| fail(e.to_string()))?,
    );
    bundle
        .params
        .save(&companion, meta)
        .map_err(|e| fail(e.to_string()))?;
    let packed_bytes = std::fs::metadata(out)
        .map_err(io_err(out, "reading the exported file"))?
        .len();
    Ok(ExportSummary {
        packed: out.to_path_buf(),
        companion,
        genes,
        beacon: None,
        packed_bytes,
        alphas: frozen.alphas,
    })
}
