//! What the search needs from a trained model, as two traits: [`ErrorModel`] (the PTQ error of a
//! candidate, optionally on a beacon's retrained weights) and [`Retrainer`] (QAT for beacons).
//!
//! The search, the beacon logic, checkpoints and reports are written against these traits so
//! they can be tested with a cheap deterministic model ([`crate::synthetic`]) and run with the
//! real SRU evaluator of mohaq-sru through an adapter, without either knowing the other.

use std::path::Path;

use mohaq_hw::{bits_to_mb, Workload};
use mohaq_precision::LayerTable;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::ModelFailure;
use crate::genes::LayerBits;

/// The error (in %, e.g. PER) of a model quantized at given per-layer widths.
pub trait ErrorModel: Sync {
    /// Retrained weights of a beacon (the base model's weights are implied by `None`).
    type Weights: Send + Sync;

    /// Short name for reports and store keys.
    fn name(&self) -> String;

    /// The model's matrix layers in layer order (as [`ErrorModel::layer_table`]) with their
    /// weight counts and MACs: model size and hardware cost are computed from it.
    fn workload(&self) -> &Workload;

    /// The model's matrix layers with their roles, in the workload's layer order: the search's
    /// gene order comes from it (mohaq-precision's codec). The default is the paper's SRU
    /// (L0..L3, P1..P3, FC); an LSTM/GRU returns its own (L.., R.., P.., FC).
    fn layer_table(&self) -> LayerTable {
        LayerTable::paper_sru()
    }

    /// Requests the model serves differently than asked (e.g. fewer utterances than requested
    /// exist), for the run record.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }

    /// How the error is measured (e.g. the decoder and its parameters), for reports.
    fn error_note(&self) -> Option<String> {
        None
    }

    /// Error of the unquantized float model on the optimisation subset: the reference of
    /// relative error limits.
    fn float_error(&self) -> Result<f64, ModelFailure>;

    /// PTQ error on the optimisation subset with activations calibrated per utterance, on the
    /// base weights (`None`) or a beacon's retrained weights.
    fn error(&self, bits: &LayerBits, weights: Option<&Self::Weights>)
        -> Result<f64, ModelFailure>;

    /// PTQ errors of many candidates on the base weights, in the order given: the same values,
    /// bit for bit, as [`ErrorModel::error`] on each. The default calls `error` per candidate
    /// (in parallel); a model whose candidates share work (the SRU: a layer's output depends
    /// only on the widths up to it) overrides it to evaluate a whole batch at once.
    fn errors(&self, bits: &[LayerBits]) -> Vec<Result<f64, ModelFailure>> {
        bits.par_iter().map(|b| self.error(b, None)).collect()
    }

    /// What the model's reuse of work across candidates saved so far (the SRU's layer-output
    /// cache), for the run's log and front file; `None` for a model without one.
    fn reuse_report(&self) -> Option<ReuseReport> {
        None
    }

    /// Error on the test split with activation clipping frozen from the optimisation subset.
    fn test_error(
        &self,
        bits: &LayerBits,
        weights: Option<&Self::Weights>,
    ) -> Result<f64, ModelFailure>;

    /// A second-order estimate of how much each layer's quantization at each of `widths` adds
    /// to the loss (HAWQ-V3: curvature × ‖Q(W) − W‖²), from the model alone, without evaluating
    /// candidates. `None` (the default) when the model cannot give one.
    fn second_order_sensitivity(
        &self,
        _widths: &[u32],
    ) -> Result<Option<SecondOrderSensitivity>, ModelFailure> {
        Ok(None)
    }
}

/// Work saved by reusing layer outputs across candidates, counted in layer steps (one matrix
/// layer of one candidate on the whole optimisation subset), and the cache's memory (buffers two
/// entries share counted in each, so the bytes are an upper bound on what it really holds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ReuseReport {
    /// Steps the evaluated candidates would need without reuse.
    pub steps_needed: u64,
    /// Steps skipped because a candidate of the same batch shared the width prefix.
    pub steps_reused_in_batch: u64,
    /// Steps skipped by starting from the cache: `steps_reused_from_cache / steps_needed` is
    /// the cache's hit rate.
    pub steps_reused_from_cache: u64,
    pub cache_bytes_held: u64,
    pub cache_peak_bytes: u64,
    pub cache_cap_bytes: u64,
    pub cache_entries: u64,
    pub cache_evictions: u64,
}

impl ReuseReport {
    /// Share of the needed steps served by the cache.
    pub fn cache_hit_rate(&self) -> f64 {
        if self.steps_needed == 0 {
            0.0
        } else {
            self.steps_reused_from_cache as f64 / self.steps_needed as f64
        }
    }

    /// One line for logs and reports.
    pub fn describe(&self) -> String {
        let mib = |b: u64| b as f64 / f64::from(1 << 20);
        let share = |n: u64| 100.0 * n as f64 / self.steps_needed.max(1) as f64;
        format!(
            "layer-output cache: {:.1} % of {} layer steps reused from the cache, {:.1} % within \
             batches; holds {:.0} MiB in {} entries (peak {:.0} MiB, cap {:.0} MiB, {} evicted)",
            share(self.steps_reused_from_cache),
            self.steps_needed,
            share(self.steps_reused_in_batch),
            mib(self.cache_bytes_held),
            self.cache_entries,
            mib(self.cache_peak_bytes),
            mib(self.cache_cap_bytes),
            self.cache_evictions
        )
    }
}

/// Per-layer second-order sensitivities, in layer order, one value per requested width.
#[derive(Debug, Clone, PartialEq)]
pub struct SecondOrderSensitivity {
    /// How the curvature was estimated ("Hessian trace (Hutchinson)", "empirical Fisher", ...).
    pub method: String,
    /// `[layer][k]`: the layer's weights at `widths[k]`.
    pub weight: Vec<Vec<f64>>,
    /// `[layer][k]`: the layer's input activations at `widths[k]` (zeros where not modelled).
    pub activation: Vec<Vec<f64>>,
}

/// Quantization-aware retraining of beacons and the storage of its result.
pub trait Retrainer<W>: Sync {
    /// Identifies the base model and the retraining settings; beacons retrained under another
    /// identity are never reused (the store key includes it).
    fn identity(&self) -> String;

    /// Retrains a copy of the base model at `bits` for `epochs`. `work_dir` is private to this
    /// beacon and survives a killed run, so a retrainer can checkpoint there and resume.
    fn retrain(&self, bits: &LayerBits, epochs: usize, work_dir: &Path) -> Result<W, ModelFailure>;

    /// Writes `weights` to `path` (the store renames it into place afterwards).
    fn save(&self, weights: &W, path: &Path) -> Result<(), ModelFailure>;

    /// Reads weights written by [`Retrainer::save`].
    fn load(&self, path: &Path) -> Result<W, ModelFailure>;
}

/// Size of the model with every weight and elementwise parameter in FP32, in MB (2^20 bytes):
/// the reference of relative size limits and of compression ratios.
pub fn fp32_size_mb(workload: &Workload) -> f64 {
    bits_to_mb((workload.total_weights() + workload.elementwise_params()) * 32)
}

/// Size in MB at the given widths (HARDWARE §1): Σ w_l·N_l plus elementwise parameters at 16.
pub fn size_mb(workload: &Workload, bits: &LayerBits) -> f64 {
    bits_to_mb(mohaq_hw::model_size_bits(
        workload,
        bits.weight.iter().copied(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_sizes_match_method() {
        let w = Workload::paper_sru();
        assert!(
            (fp32_size_mb(&w) - 21.2).abs() < 0.05,
            "{}",
            fp32_size_mb(&w)
        );
        let expect = [(16, 10.60), (8, 5.31), (4, 2.66), (2, 1.34)];
        for (bits, mb) in expect {
            let s = size_mb(&w, &LayerBits::uniform(bits));
            assert!((s - mb).abs() < 0.006, "{bits}: {s}");
        }
    }
}
