//! `cargo xtask reproduce` on the real SRU: one [`SruModel`] per distinct model/data section of
//! the shipped experiments (so experiments with the same optimisation subset share evaluators and
//! their weight caches), then E0-E3 of [`crate::reproduce`].

use std::collections::HashMap;
use std::path::Path;

use mohaq_evo::Observer;

use crate::reproduce::{
    load_experiment, reproduce_models, ModelResults, ReproduceConfig, MODEL_EXPERIMENTS,
};
use crate::sru_model::SruModel;
use mohaq_beacon::error::RunError;

/// Builds the models of E0-E3 and runs them. `data_dir` overrides the experiments' corpus
/// folder. With `config.quick` beacons are retrained on the TIMIT sample only (not Kathleen),
/// so that a QAT epoch fits the quick budget.
pub fn reproduce_sru(
    config: &ReproduceConfig,
    data_dir: Option<&Path>,
    observer: &mut dyn Observer,
    exhaustive_progress: &mut dyn FnMut(usize, usize),
) -> Result<ModelResults, RunError> {
    let mut models: Vec<SruModel> = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    let mut index_of: HashMap<&str, usize> = HashMap::new();
    for name in MODEL_EXPERIMENTS {
        let experiment = load_experiment(config, name)?;
        let key = format!("{:?}|{:?}", experiment.model, experiment.data);
        let index = match keys.iter().position(|k| *k == key) {
            Some(i) => i,
            None => {
                let model = SruModel::for_experiment(&experiment, &config.workspace, data_dir)?;
                let (dev, test) = model.subset_sizes();
                tracing::info!(experiment = name, dev, test, "loaded the SRU model");
                let mut retrain = model.retrain_settings().clone();
                if config.quick {
                    retrain.include_kathleen = Some(false);
                }
                models.push(model.with_retrain_settings(retrain));
                keys.push(key);
                models.len() - 1
            }
        };
        index_of.insert(name, index);
    }
    let lookup = |name: &str| -> &SruModel { &models[index_of.get(name).copied().unwrap_or(0)] };
    reproduce_models(config, &lookup, observer, exhaustive_progress)
}
