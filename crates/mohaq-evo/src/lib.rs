//! NSGA-II, generic over problems; search strategies under an evaluation budget (random,
//! sensitivity baselines, seeded NSGA-II); hypervolume and other indicators; exhaustive ground truth.
//!
//! The engine follows pymoo 0.4's NSGA-II, which the MOHAQ authors used, module by module:
//! [`sampling`], [`crossover`] (SBX), [`mutation`] (polynomial), [`duplicates`], [`selection`]
//! (binary tournament), [`survival`] (rank and crowding), driven by [`Nsga2`]. Evaluations go
//! through a cache ([`EvaluationArchive`]) that is saved in a checkpoint after every generation,
//! so a run can be killed and resumed to the same result without evaluating anything twice.
//!
//! Genes are `f64`s. A gene with a list of allowed values (bit widths {2, 4, 8, 16}) is the index
//! into that list, so the integer operators act on `0..len` exactly as a pymoo user encodes it;
//! [`Space::decode`] gives the values back.

pub mod archive;
mod bounds;
pub mod checkpoint;
pub mod config;
pub mod crossover;
pub mod crowding;
pub mod dominance;
pub mod duplicates;
pub mod error;
mod evaluation;
pub mod exhaustive;
pub mod hypervolume;
pub mod indicators;
pub mod mutation;
pub mod nsga2;
pub mod observer;
pub mod pareto_archive;
pub mod population;
pub mod problem;
pub mod quality;
pub mod sampling;
pub mod selection;
pub mod sorting;
pub mod state;
pub mod strategy;
pub mod survival;
pub mod test_problems;

pub use archive::{EvaluationArchive, EvaluationRecord};
pub use config::{Nsga2Config, PmConfig, SbxConfig};
pub use error::{CheckpointError, ConfigError, IndicatorError, Nsga2Error, SpaceError};
pub use exhaustive::{enumerate_space, exhaustive_front};
pub use hypervolume::{hypervolume, hypervolume_by_slicing};
pub use indicators::{igd, recovered_count};
pub use nsga2::{has_checkpoint, Nsga2, RunOutcome};
pub use observer::{Control, GenerationReport, Observer, Silent};
pub use pareto_archive::ParetoArchive;
pub use population::Individual;
pub use problem::{Evaluation, Genes, Problem, Space, Variable};
pub use quality::{reference_point, FrontQuality};
pub use state::Nsga2State;
pub use strategy::{LayerOption, LayerwiseProblem, Strategy, StrategyRun};
