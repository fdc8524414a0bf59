//! The MOHAQ problem: genes to per-layer precisions, objectives and constraints of the paper's
//! experiments, inference-only and beacon-based search, the run directory, the report.
//!
//! The model is reached only through [`model::ErrorModel`] and [`model::Retrainer`], so that
//! everything here is tested with [`synthetic::SyntheticModel`] and runs with the real SRU
//! evaluator through an adapter.

pub mod beacons;
pub mod dispatch;
pub mod error;
pub mod experiment;
pub mod export;
pub mod fsio;
pub mod genes;
pub mod infer;
pub mod limits;
pub mod logging;
pub mod model;
pub mod problem;
pub mod run;
pub mod sru_model;
pub mod sru_reproduce;
pub mod store;
pub mod synthetic;
pub mod worker;

pub use error::{
    BeaconStoreError, ExperimentError, GeneError, ModelFailure, ProblemError, RunError,
};
pub use experiment::{BeaconMode, Experiment, ExperimentKind, Limit};
pub use genes::LayerBits;
pub use model::{ErrorModel, Retrainer};
pub use problem::{CandidateScore, CostSummary, GeneLayout, MohaqProblem};
pub use run::{run_search, FrontFile, FrontSolution, RunOptions};
pub use store::BeaconStore;
pub mod hardware;
pub mod paper;
pub mod plot;
pub mod report;
pub mod reproduce;
