//! The MOHAQ problem: genes to per-layer precisions, objectives and constraints of the paper's
//! experiments, inference-only and beacon-based search, the run directory and the beacon store.
//!
//! The model is reached only through [`model::ErrorModel`] and [`model::Retrainer`], so that
//! everything here is tested with [`synthetic::SyntheticModel`] and runs with the real SRU
//! evaluator through an adapter (mohaq-app's `sru_model`). This crate knows no model, no
//! tensor library and no plotting.

pub mod beacons;
pub mod dispatch;
pub mod error;
pub mod experiment;
pub mod fsio;
pub mod genes;
pub mod layerwise;
pub mod limits;
pub mod model;
pub mod problem;
pub mod run;
pub mod score;
pub mod store;
pub mod synthetic;

pub use error::{
    BeaconStoreError, ExperimentError, GeneError, ModelFailure, ProblemError, RunError,
};
pub use experiment::{BeaconMode, Experiment, ExperimentKind, Limit, SearchStrategy};
pub use genes::LayerBits;
pub use model::{ErrorModel, Retrainer};
pub use problem::{CandidateScore, CostSummary, GeneLayout, MohaqProblem};
pub use run::{run_search, FrontFile, FrontSolution, RunOptions};
pub use store::BeaconStore;
