//! The MOHAQ problem: genes to per-layer precisions, objectives and constraints of the paper's
//! experiments, inference-only and beacon-based search.

pub mod error;
pub mod experiment;
pub mod genes;
