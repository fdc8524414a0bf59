//! A cheap, deterministic stand-in for a trained model: the error is a fixed function of the
//! widths, and "retraining" records the widths it was done for and lowers the penalty of nearby
//! candidates. It lets the search, beacon logic, checkpoints and reports be tested in
//! milliseconds; it never appears in a report.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use mohaq_hw::Workload;
use serde::{Deserialize, Serialize};

use crate::error::ModelFailure;
use crate::genes::{LayerBits, NUM_LAYERS};
use crate::model::{ErrorModel, Retrainer};

/// Error of the float model.
const FLOAT_ERROR: f64 = 18.0;

/// Per-layer sensitivity in layer order L0..L3, P1..P3, FC.
const SENSITIVITY: [f64; NUM_LAYERS] = [2.0, 0.6, 0.7, 0.8, 0.4, 0.5, 0.6, 1.5];

fn weight_penalty(bits: u32) -> f64 {
    match bits {
        16 => 0.0,
        8 => 0.05,
        4 => 0.5,
        _ => 3.0,
    }
}

fn activation_penalty(bits: u32) -> f64 {
    match bits {
        16 => 0.0,
        8 => 0.08,
        4 => 0.7,
        _ => 4.0,
    }
}

/// The synthetic model; counts its calls so tests can see what was (re)computed.
#[derive(Debug)]
pub struct SyntheticModel {
    workload: Workload,
    /// Time each error evaluation takes, so executor tests have jobs to interrupt.
    delay: std::time::Duration,
    evaluations: AtomicUsize,
    retrainings: AtomicUsize,
}

impl Default for SyntheticModel {
    fn default() -> Self {
        Self::new()
    }
}

/// "Retrained weights": the widths they were retrained for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyntheticWeights {
    pub trained_for: LayerBits,
    pub epochs: usize,
}

impl SyntheticModel {
    /// On the paper's SRU workload, so sizes and costs are the paper's.
    pub fn new() -> Self {
        Self {
            workload: Workload::paper_sru(),
            delay: std::time::Duration::ZERO,
            evaluations: AtomicUsize::new(0),
            retrainings: AtomicUsize::new(0),
        }
    }

    /// The same model, taking `delay` per error evaluation (results unchanged).
    pub fn with_delay(mut self, delay: std::time::Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Calls of [`ErrorModel::error`] so far.
    pub fn evaluations(&self) -> usize {
        self.evaluations.load(Ordering::SeqCst)
    }

    /// Calls of [`Retrainer::retrain`] so far.
    pub fn retrainings(&self) -> usize {
        self.retrainings.load(Ordering::SeqCst)
    }

    fn raw_error(bits: &LayerBits, weights: Option<&SyntheticWeights>) -> f64 {
        let mut error = FLOAT_ERROR;
        for (l, sensitivity) in SENSITIVITY.iter().enumerate() {
            let mut p = weight_penalty(bits.weight[l]) + activation_penalty(bits.activation[l]);
            if let Some(w) = weights {
                // Retraining for nearby widths recovers most of a layer's loss.
                let near = bits.weight[l] >= w.trained_for.weight[l] / 2
                    && bits.weight[l] <= w.trained_for.weight[l] * 2;
                if near {
                    p *= 0.35;
                }
                // A retrained model is a little worse at widths it was not trained for.
                p += 0.02;
            }
            error += sensitivity * p;
        }
        // A mild interaction so the landscape is not separable.
        let low_weights = bits.weight.iter().filter(|&&b| b <= 4).count() as f64;
        error + 0.05 * low_weights * low_weights
    }
}

impl ErrorModel for SyntheticModel {
    type Weights = SyntheticWeights;

    fn name(&self) -> String {
        "synthetic".into()
    }

    fn workload(&self) -> &Workload {
        &self.workload
    }

    fn float_error(&self) -> Result<f64, ModelFailure> {
        Ok(FLOAT_ERROR)
    }

    fn error(
        &self,
        bits: &LayerBits,
        weights: Option<&SyntheticWeights>,
    ) -> Result<f64, ModelFailure> {
        self.evaluations.fetch_add(1, Ordering::SeqCst);
        if !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
        Ok(Self::raw_error(bits, weights))
    }

    fn test_error(
        &self,
        bits: &LayerBits,
        weights: Option<&SyntheticWeights>,
    ) -> Result<f64, ModelFailure> {
        Ok(Self::raw_error(bits, weights) * 1.04 + 0.3)
    }
}

impl Retrainer<SyntheticWeights> for SyntheticModel {
    fn identity(&self) -> String {
        "synthetic-v1".into()
    }

    fn retrain(
        &self,
        bits: &LayerBits,
        epochs: usize,
        _work_dir: &Path,
    ) -> Result<SyntheticWeights, ModelFailure> {
        self.retrainings.fetch_add(1, Ordering::SeqCst);
        Ok(SyntheticWeights {
            trained_for: *bits,
            epochs,
        })
    }

    fn save(&self, weights: &SyntheticWeights, path: &Path) -> Result<(), ModelFailure> {
        let text = serde_json::to_vec_pretty(weights)
            .map_err(|e| ModelFailure::new("synthetic weights", e))?;
        std::fs::write(path, text)
            .map_err(|e| ModelFailure::new(format!("writing {}", path.display()), e))
    }

    fn load(&self, path: &Path) -> Result<SyntheticWeights, ModelFailure> {
        let text = std::fs::read(path)
            .map_err(|e| ModelFailure::new(format!("reading {}", path.display()), e))?;
        serde_json::from_slice(&text)
            .map_err(|e| ModelFailure::new(format!("parsing {}", path.display()), e))
    }
}
