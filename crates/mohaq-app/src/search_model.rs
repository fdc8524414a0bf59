//! The model a search runs on, of whichever kind its file holds: the SRU (with QAT beacons) or
//! an LSTM/GRU bundle (PTQ only, see [`crate::rnn_model`]). `mohaq search` loads it from the
//! experiment's `model.weights`, telling the kinds apart by the config stored in the bundle.

use std::path::Path;

use mohaq_hw::Workload;
use mohaq_precision::LayerTable;

use mohaq_beacon::error::{ModelFailure, RunError};
use mohaq_beacon::experiment::Experiment;
use mohaq_beacon::genes::LayerBits;
use mohaq_beacon::model::{ErrorModel, Retrainer, ReuseReport, SecondOrderSensitivity};
use mohaq_sru::rnn::Architecture;

use crate::rnn_model::{RnnModel, RnnWeights};
use crate::sru_model::{SruModel, SruWeights};

/// An SRU or an LSTM/GRU model.
pub enum SearchModel {
    Sru(Box<SruModel>),
    Rnn(Box<RnnModel>),
}

/// Retrained weights of either kind.
pub enum SearchWeights {
    Sru(SruWeights),
    Rnn(RnnWeights),
}

fn mismatch() -> ModelFailure {
    ModelFailure::new("beacon weights", "weights of another model kind")
}

impl SearchModel {
    /// Loads the experiment's model: an LSTM/GRU bundle when its stored config says so, else
    /// the SRU (`model.config` + `model.weights`), as [`SruModel::for_experiment`].
    pub fn for_experiment(
        experiment: &Experiment,
        base: &Path,
        data_override: Option<&Path>,
    ) -> Result<Self, RunError> {
        let weights = experiment.clone().resolve(base).model.weights;
        let is_rnn = weights.is_file()
            && matches!(
                Architecture::stored(&weights),
                Ok(Some(Architecture::Rnn(_)))
            );
        Ok(if is_rnn {
            Self::Rnn(Box::new(RnnModel::for_experiment(
                experiment,
                base,
                data_override,
            )?))
        } else {
            Self::Sru(Box::new(SruModel::for_experiment(
                experiment,
                base,
                data_override,
            )?))
        })
    }

    /// Utterances of the optimisation subset and of the test subset.
    pub fn subset_sizes(&self) -> (usize, usize) {
        match self {
            Self::Sru(m) => m.subset_sizes(),
            Self::Rnn(m) => m.subset_sizes(),
        }
    }

    /// "SRU", "LSTM" or "GRU", for messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::Sru(_) => "SRU",
            Self::Rnn(m) => m.config().kind.name(),
        }
    }
}

impl ErrorModel for SearchModel {
    type Weights = SearchWeights;

    fn name(&self) -> String {
        match self {
            Self::Sru(m) => m.name(),
            Self::Rnn(m) => m.name(),
        }
    }

    fn layer_table(&self) -> LayerTable {
        match self {
            Self::Sru(m) => m.layer_table(),
            Self::Rnn(m) => m.layer_table(),
        }
    }

    fn workload(&self) -> &Workload {
        match self {
            Self::Sru(m) => m.workload(),
            Self::Rnn(m) => m.workload(),
        }
    }

    fn notes(&self) -> Vec<String> {
        match self {
            Self::Sru(m) => m.notes(),
            Self::Rnn(m) => m.notes(),
        }
    }

    fn error_note(&self) -> Option<String> {
        match self {
            Self::Sru(m) => m.error_note(),
            Self::Rnn(m) => m.error_note(),
        }
    }

    fn float_error(&self) -> Result<f64, ModelFailure> {
        match self {
            Self::Sru(m) => m.float_error(),
            Self::Rnn(m) => m.float_error(),
        }
    }

    fn error(
        &self,
        bits: &LayerBits,
        weights: Option<&SearchWeights>,
    ) -> Result<f64, ModelFailure> {
        match (self, weights) {
            (Self::Sru(m), None) => m.error(bits, None),
            (Self::Sru(m), Some(SearchWeights::Sru(w))) => m.error(bits, Some(w)),
            (Self::Rnn(m), None) => m.error(bits, None),
            (Self::Rnn(m), Some(SearchWeights::Rnn(w))) => m.error(bits, Some(w)),
            _ => Err(mismatch()),
        }
    }

    /// Delegated, so that `mohaq search` and the Slurm worker, which hold a `SearchModel`, get
    /// the SRU's batch evaluation (shared prefixes, the layer-output cache) and its report, not
    /// one candidate at a time.
    fn errors(&self, bits: &[LayerBits]) -> Vec<Result<f64, ModelFailure>> {
        match self {
            Self::Sru(m) => m.errors(bits),
            Self::Rnn(m) => m.errors(bits),
        }
    }

    fn reuse_report(&self) -> Option<ReuseReport> {
        match self {
            Self::Sru(m) => m.reuse_report(),
            Self::Rnn(m) => m.reuse_report(),
        }
    }

    fn test_error(
        &self,
        bits: &LayerBits,
        weights: Option<&SearchWeights>,
    ) -> Result<f64, ModelFailure> {
        match (self, weights) {
            (Self::Sru(m), None) => m.test_error(bits, None),
            (Self::Sru(m), Some(SearchWeights::Sru(w))) => m.test_error(bits, Some(w)),
            (Self::Rnn(m), None) => m.test_error(bits, None),
            (Self::Rnn(m), Some(SearchWeights::Rnn(w))) => m.test_error(bits, Some(w)),
            _ => Err(mismatch()),
        }
    }

    fn second_order_sensitivity(
        &self,
        widths: &[u32],
    ) -> Result<Option<SecondOrderSensitivity>, ModelFailure> {
        match self {
            Self::Sru(m) => m.second_order_sensitivity(widths),
            Self::Rnn(m) => m.second_order_sensitivity(widths),
        }
    }
}

impl Retrainer<SearchWeights> for SearchModel {
    fn identity(&self) -> String {
        match self {
            Self::Sru(m) => m.identity(),
            Self::Rnn(m) => m.identity(),
        }
    }

    fn retrain(
        &self,
        bits: &LayerBits,
        epochs: usize,
        work_dir: &Path,
    ) -> Result<SearchWeights, ModelFailure> {
        match self {
            Self::Sru(m) => m.retrain(bits, epochs, work_dir).map(SearchWeights::Sru),
            Self::Rnn(m) => m.retrain(bits, epochs, work_dir).map(SearchWeights::Rnn),
        }
    }

    fn save(&self, weights: &SearchWeights, path: &Path) -> Result<(), ModelFailure> {
        match (self, weights) {
            (Self::Sru(m), SearchWeights::Sru(w)) => m.save(w, path),
            (Self::Rnn(m), SearchWeights::Rnn(w)) => m.save(w, path),
            _ => Err(mismatch()),
        }
    }

    fn load(&self, path: &Path) -> Result<SearchWeights, ModelFailure> {
        match self {
            Self::Sru(m) => m.load(path).map(SearchWeights::Sru),
            Self::Rnn(m) => m.load(path).map(SearchWeights::Rnn),
        }
    }
}
