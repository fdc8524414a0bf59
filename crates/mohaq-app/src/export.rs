//! `mohaq export`: one front solution as a quantized model (the files are mohaq-sru's
//! [`mohaq_sru::deploy::format`]): the solution's weights (base or beacon) quantized at its
//! widths, with activation thresholds frozen on the optimisation subset.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mohaq_beacon::error::{ModelFailure, RunError};
use mohaq_beacon::experiment::Experiment;
use mohaq_beacon::genes::LayerBits;
use mohaq_beacon::run::{store_dir_for, FrontFile, RunOptions, EXPERIMENT_FILE};
use mohaq_beacon::store::BeaconStore;
use mohaq_quant::PackedMatrix;
use mohaq_sru::deploy::{companion_path, write_exported};
use mohaq_sru::model::ModelParams;
use mohaq_sru::quantized::QuantizedModel;
use serde::Serialize;

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
    Ok(ExportSummary {
        packed: files.packed,
        companion: files.companion,
        genes: files.genes,
        beacon: None,
        packed_bytes: files.packed_bytes,
        alphas: frozen.alphas,
    })
}
