//! `mohaq export`: one front solution as a quantized model (the files are mohaq-sru's
//! [`mohaq_sru::deploy::format`], or [`mohaq_sru::deploy::rnn_format`] for an LSTM/GRU run):
//! the solution's weights (base or beacon) quantized at its widths, with activation thresholds
//! frozen on the optimisation subset. The run's model kind comes from the experiment's model
//! file ([`SearchModel`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mohaq_beacon::error::{ModelFailure, RunError};
use mohaq_beacon::experiment::Experiment;
use mohaq_beacon::genes::LayerBits;
use mohaq_beacon::model::Retrainer;
use mohaq_beacon::run::{store_dir_for, FrontFile, RunOptions, EXPERIMENT_FILE};
use mohaq_beacon::store::BeaconStore;
use mohaq_quant::PackedMatrix;
use mohaq_sru::deploy::{companion_path, write_exported, write_exported_rnn, ExportedFiles};
use mohaq_sru::model::ModelParams;
use mohaq_sru::quantized::QuantizedModel;
use serde::Serialize;

use crate::rnn_model::{RnnModel, RnnWeights};
use crate::search_model::SearchModel;
use crate::sru_model::{bit_config, SruModel, SruWeights};

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

/// Exports solution `index` of the front in `run_dir` to `out` (and its companion). The model
/// and data are those of the run's experiment copy (absolute paths, so any current directory
/// works), the corpus from `data_override`, the experiment or the default.
pub fn export_solution(
    run_dir: &Path,
    index: usize,
    out: &Path,
    data_override: Option<&Path>,
    force: bool,
) -> Result<ExportSummary, RunError> {
    if !force {
        refuse_overwrite(out)?;
    }
    let front = FrontFile::load(run_dir)?;
    let solution = front.solutions.get(index).ok_or_else(|| {
        RunError::Invalid(format!(
            "{}: the front has {} solutions (0..{}), there is no solution {index}",
            run_dir.display(),
            front.solutions.len(),
            front.solutions.len().saturating_sub(1)
        ))
    })?;
    // Run directories store resolved (absolute) paths; an older copy's relative paths are taken
    // from the current directory, as the search took them.
    let experiment = Experiment::from_file(&run_dir.join(EXPERIMENT_FILE))?.resolve(Path::new("."));
    let model = SearchModel::for_experiment(&experiment, Path::new("."), data_override)?;
    let beacon = solution.score.uses_beacon_weights();
    let key = match beacon {
        None => None,
        Some(b) => Some(
            front
                .beacons
                .iter()
                .find(|r| r.index == b)
                .map(|r| r.key.clone())
                .ok_or_else(|| {
                    RunError::Invalid(format!(
                        "{}: solution {index} uses beacon {b}, which the front does not list",
                        run_dir.display()
                    ))
                })?,
        ),
    };
    let store = BeaconStore::new(store_dir_for(&experiment, run_dir, &RunOptions::default()));
    let bits = &solution.score.bits;
    let mut summary = match &model {
        SearchModel::Sru(m) => {
            let weights = beacon_weights(&store, key.as_deref(), &**m)?;
            write_quantized(m, weights.as_ref(), bits, out)?
        }
        SearchModel::Rnn(m) => {
            let weights = beacon_weights(&store, key.as_deref(), &**m)?;
            write_quantized_rnn(m, weights.as_ref(), bits, out)?
        }
    };
    summary.beacon = beacon;
    Ok(summary)
}

/// The weights of the beacon stored under `key` (`None`: the base model's).
fn beacon_weights<W>(
    store: &BeaconStore,
    key: Option<&str>,
    model: &dyn Retrainer<W>,
) -> Result<Option<W>, RunError> {
    let Some(key) = key else {
        return Ok(None);
    };
    let loaded = store.load(key, model)?.ok_or_else(|| {
        RunError::Invalid(format!(
            "beacon `{key}` is not in the store {}",
            store.dir().display()
        ))
    })?;
    Ok(Some(loaded.weights))
}

/// An existing output (or its companion) is kept unless the user asks to replace it: `--out`
/// could name the shipped float model.
pub fn refuse_overwrite(out: &Path) -> Result<(), RunError> {
    for path in [out.to_path_buf(), companion_path(out)] {
        if path.exists() {
            return Err(RunError::Invalid(format!(
                "{}: already exists; pass --force to overwrite it",
                path.display()
            )));
        }
    }
    Ok(())
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
    let files = write_exported(
        out,
        model.bundle(),
        params,
        &config,
        &packed,
        &frozen.alphas,
    )
    .map_err(|e| RunError::Invalid(e.to_string()))?;
    Ok(ExportSummary::new(files, frozen.alphas))
}

/// [`write_quantized`] for an LSTM/GRU: the base (or a beacon's) weights quantized at `bits`
/// by the evaluator's own engine, thresholds frozen on the model's optimisation subset.
pub fn write_quantized_rnn(
    model: &RnnModel,
    weights: Option<&RnnWeights>,
    bits: &LayerBits,
    out: &Path,
) -> Result<ExportSummary, RunError> {
    let widths = bits
        .widths()
        .map_err(|e| ModelFailure::new(format!("widths {}", bits.display_genes()), e))?;
    let alphas = model.frozen_activations(&widths, weights)?;
    let engine = model.engine(weights);
    let files = write_exported_rnn(out, model.bundle(), engine, &widths, &alphas)
        .map_err(|e| RunError::Invalid(e.to_string()))?;
    Ok(ExportSummary::new(files, alphas))
}

impl ExportSummary {
    fn new(files: ExportedFiles, alphas: Vec<f32>) -> Self {
        Self {
            packed: files.packed,
            companion: files.companion,
            genes: files.genes,
            beacon: None,
            packed_bytes: files.packed_bytes,
            alphas,
        }
    }
}
