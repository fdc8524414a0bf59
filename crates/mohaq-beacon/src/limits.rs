//! Constraint limits resolved for the model at hand, remembering how each was obtained so the
//! report can say whether the paper's absolute figures or model-relative ones were used.

use mohaq_hw::Platform;
use serde::{Deserialize, Serialize};

use crate::error::ModelFailure;
use crate::experiment::{Experiment, ExperimentKind, Limit};
use crate::model::{fp32_size_mb, ErrorModel};

/// The authors' promising band (19 % < e₀ < 30 %) relative to the recipe's float PER of 16.6 %,
/// used when a beacon experiment names no band (METHOD §6).
pub const DEFAULT_BAND_RELATIVE: [f64; 2] = [19.0 / 16.6, 30.0 / 16.6];

/// One resolved limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolvedLimit {
    /// The value the search uses (MB or % error).
    pub value: f64,
    /// How it was obtained, for reports: "24 (absolute)", "1.446 × float PER (16.2)", ...
    pub origin: String,
}

impl ResolvedLimit {
    fn from_limit(limit: &Limit, reference: f64, reference_name: &str) -> Self {
        let value = limit.resolve(reference);
        let origin = match limit {
            Limit::Absolute(v) => format!("{v} (absolute)"),
            Limit::Relative(f) => format!("{f} × {reference_name} ({reference:.3})"),
        };
        Self { value, origin }
    }
}

/// Every limit of an experiment, in the units the search uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolvedLimits {
    pub float_error: f64,
    pub fp32_size_mb: f64,
    pub max_error: ResolvedLimit,
    pub max_size_mb: Option<ResolvedLimit>,
    /// Promising band of PTQ error (beacon-based search only).
    pub band: Option<[ResolvedLimit; 2]>,
    /// Requests of the experiment that the run serves differently than written (a 2-bit FC
    /// activation, more utterances than the corpus has), so the run record says so.
    #[serde(default)]
    pub notes: Vec<String>,
}

impl ResolvedLimits {
    /// [`resolve`](Self::resolve) against `model`'s own float error and FP32 size: what every
    /// search, exhaustive front and comparison on a model starts from.
    pub fn for_model<M: ErrorModel + ?Sized>(
        experiment: &Experiment,
        model: &M,
        platform: Option<&Platform>,
    ) -> Result<Self, ModelFailure> {
        Ok(Self::resolve(
            experiment,
            model.float_error()?,
            fp32_size_mb(model.workload()),
            platform,
        ))
    }

    /// Resolves the experiment's limits against the model's float error and FP32 size; a
    /// hardware experiment without a size limit takes the platform's memory limit.
    pub fn resolve(
        experiment: &Experiment,
        float_error: f64,
        fp32_size_mb: f64,
        platform: Option<&Platform>,
    ) -> Self {
        let max_error =
            ResolvedLimit::from_limit(&experiment.constraints.max_error, float_error, "float PER");
        let max_size_mb = match (&experiment.constraints.max_size_mb, platform) {
            (Some(limit), _) => Some(ResolvedLimit::from_limit(
                limit,
                fp32_size_mb,
                "FP32 size (MB)",
            )),
            (None, Some(p)) if experiment.kind != ExperimentKind::Compression => {
                Some(ResolvedLimit {
                    value: p.memory_limit_mb(),
                    origin: format!(
                        "{} MB (memory limit of platform `{}`)",
                        p.memory_limit_mb(),
                        p.name()
                    ),
                })
            }
            _ => None,
        };
        let band = experiment
            .beacons
            .as_ref()
            .filter(|_| experiment.uses_beacons())
            .map(|b| match &b.band {
                Some([lo, hi]) => [
                    ResolvedLimit::from_limit(lo, float_error, "float PER"),
                    ResolvedLimit::from_limit(hi, float_error, "float PER"),
                ],
                None => DEFAULT_BAND_RELATIVE.map(|f| {
                    ResolvedLimit::from_limit(
                        &Limit::Relative(f),
                        float_error,
                        "float PER (default: the authors' 19-30 % band over 16.6 %)",
                    )
                }),
            });
        Self {
            float_error,
            fp32_size_mb,
            max_error,
            max_size_mb,
            band,
            notes: Vec::new(),
        }
    }
}
