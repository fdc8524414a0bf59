//! The MOHAQ problem: genes to per-layer precisions, inference-only and beacon-based search.
