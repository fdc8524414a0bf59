//! Experiments described as TOML: which model, data, platform and search settings, which
//! constraints, which beacons.
//!
//! Constraints are written either in the paper's absolute units (MB, % PER) or relative to the
//! model at hand (a fraction of its FP32 size, a multiple of its float PER), because the paper's
//! absolute limits only make sense for the paper's model; [`Limit`] keeps which was used so the
//! report can say it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::ExperimentError;

/// The objective set of an experiment (METHOD §5.3). The paper ran the speed-and-energy set on
/// SiLago and the speed set on Bit Fusion; the platform is a separate setting, so the sets are
/// named for what they minimise. `silago` and `bitfusion`, the names of earlier files, still
/// parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExperimentKind {
    /// Minimise (error, size).
    Compression,
    /// Minimise (error, −speedup, energy); needs a platform with an energy model.
    #[serde(alias = "silago")]
    SpeedupEnergy,
    /// Minimise (error, −speedup).
    #[serde(alias = "bitfusion")]
    Speedup,
}

/// A limit in absolute units or relative to the model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Limit {
    /// The value itself (MB, or % PER).
    Absolute(f64),
    /// A multiple of the model's reference value (its FP32 size, or its float PER).
    Relative(f64),
}

impl Limit {
    /// The limit for a model whose reference value (FP32 size or float PER) is `reference`.
    pub fn resolve(&self, reference: f64) -> f64 {
        match *self {
            Limit::Absolute(value) => value,
            Limit::Relative(factor) => factor * reference,
        }
    }

    /// A short description for reports: "24 (absolute)" or "1.446 × float PER".
    pub fn describe(&self, reference_name: &str) -> String {
        match *self {
            Limit::Absolute(value) => format!("{value} (absolute)"),
            Limit::Relative(factor) => format!("{factor} × {reference_name}"),
        }
    }
}

/// The model the search quantizes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    /// Model config TOML (layer sizes).
    pub config: PathBuf,
    /// Trained float weights (safetensors).
    pub weights: PathBuf,
}

/// Where the speech data is and how much of it the search uses.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    /// Corpus folder; `--data` and `MOHAQ_DATA` override it. Default `../shared/data`.
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// Use only the first N utterances of the dev split as the optimisation subset (0 = all).
    #[serde(default)]
    pub dev_utterances: usize,
    /// Use only the first N utterances of the test split for the final re-evaluation (0 = all).
    #[serde(default)]
    pub test_utterances: usize,
}

/// NSGA-II budget (METHOD §5.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchSection {
    #[serde(default = "default_pop_size")]
    pub pop_size: usize,
    #[serde(default = "default_offsprings")]
    pub n_offsprings: usize,
    pub n_gen: usize,
    /// Bit widths the genes may take; default: every width the platform runs (2, 4, 8, 16
    /// without a platform). A width the platform cannot run is an error.
    #[serde(default)]
    pub widths: Option<Vec<u32>>,
    /// Cap of the layer-output cache shared by the search's batches, in MiB (0 disables it;
    /// default [`DEFAULT_CACHE_MB`]). It changes the time only, never a result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_mb: Option<u64>,
    /// Which search runs; absent means [`SearchStrategy::Default`]. Kept absent in run
    /// directories written without it, so their experiment copies still compare equal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<SearchStrategy>,
}

/// Default cap of the search's layer-output cache, MiB.
pub const DEFAULT_CACHE_MB: u64 = 2048;

/// The search an experiment runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchStrategy {
    /// The surrogate-assisted search (mohaq-evo's `SurrogateSearch`: the error predicted by an
    /// additive model, the hardware objectives exact), spending the same number of evaluations
    /// the paper's settings plan.
    #[default]
    Default,
    /// The MOHAQ authors' NSGA-II, generation by generation (METHOD §5.2).
    Paper,
}

impl SearchSection {
    /// The layer-output cache cap in MiB (0: no cache).
    pub fn cache_mb(&self) -> u64 {
        self.cache_mb.unwrap_or(DEFAULT_CACHE_MB)
    }

    /// The strategy that runs: the explicit field, else the default.
    pub fn strategy(&self) -> SearchStrategy {
        self.strategy.unwrap_or_default()
    }

    /// Evaluations the settings plan, counted as pymoo counts generations (the initial
    /// population is generation 1): `pop_size + (n_gen − 1) × n_offsprings`.
    pub fn planned_evaluations(&self) -> usize {
        self.pop_size.saturating_add(
            self.n_gen
                .saturating_sub(1)
                .saturating_mul(self.n_offsprings),
        )
    }
}

fn default_pop_size() -> usize {
    40
}

fn default_offsprings() -> usize {
    10
}

/// The feasibility limits of METHOD §5.3.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConstraintSection {
    /// Largest allowed error (% PER, or a multiple of the float PER).
    pub max_error: Limit,
    /// Largest allowed model size (MB, or a fraction of the FP32 size); none for compression.
    #[serde(default)]
    pub max_size_mb: Option<Limit>,
}

/// How beacons are chosen (METHOD §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BeaconMode {
    /// Inference-only search.
    #[default]
    None,
    /// New beacons whenever a promising candidate is farther than the threshold from all beacons.
    Dynamic,
    /// A fixed list of beacons, assigned by distance.
    Fixed,
}

/// Beacon settings; errors are in the same units as [`ConstraintSection::max_error`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BeaconSection {
    #[serde(default)]
    pub mode: BeaconMode,
    /// A candidate farther than this (Σ |log2-level differences| of weight genes) from every
    /// beacon becomes a new beacon (dynamic mode).
    #[serde(default = "default_distance")]
    pub distance_threshold: u32,
    /// Promising band of PTQ error: lower and upper limit.
    pub band: Option<[Limit; 2]>,
    /// Promising candidates must reach at least this speedup.
    #[serde(default)]
    pub min_speedup: f64,
    /// QAT epochs per beacon.
    #[serde(default = "default_epochs")]
    pub epochs: usize,
    /// At most this many retrained beacons (dynamic mode), to bound the run time.
    #[serde(default = "default_max_beacons")]
    pub max_beacons: usize,
    /// Fixed beacons: the genes (bit widths, not indices) of each, in the experiment's gene
    /// order (16 paper genes, or 8 shared genes).
    #[serde(default)]
    pub fixed: Vec<Vec<u32>>,
    /// Folder of retrained beacons shared by runs; default `<run dir>/../beacon-store`.
    #[serde(default)]
    pub store_dir: Option<PathBuf>,
    /// Retrain with the FC input activation at 16 bits, as the authors did (METHOD §6).
    #[serde(default = "default_true")]
    pub retrain_fc_activation_16: bool,
}

fn default_true() -> bool {
    true
}

fn default_distance() -> u32 {
    5
}

fn default_epochs() -> usize {
    20
}

fn default_max_beacons() -> usize {
    3
}

/// One experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    pub name: String,
    pub kind: ExperimentKind,
    #[serde(default = "default_seed")]
    pub seed: u64,
    pub model: ModelSection,
    #[serde(default)]
    pub data: DataSection,
    /// Platform TOML; required for the hardware experiments.
    #[serde(default)]
    pub platform: Option<PathBuf>,
    pub search: SearchSection,
    pub constraints: ConstraintSection,
    #[serde(default)]
    pub beacons: Option<BeaconSection>,
    /// Where independent work runs (`[executor]`, see `mohaq_exec::config`); local by default.
    /// Results do not depend on it, so a run may be resumed under another executor.
    #[serde(default)]
    pub executor: Option<mohaq_exec::ExecutorConfig>,
}

fn default_seed() -> u64 {
    1
}

impl Experiment {
    /// Reads and validates an experiment file. Relative paths inside it stay relative; callers
    /// resolve them with [`Experiment::resolve`] (the shipped files against the workspace root).
    pub fn from_file(path: &Path) -> Result<Self, ExperimentError> {
        let text = std::fs::read_to_string(path).map_err(|source| ExperimentError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml_str(&text, path)
    }

    /// Parses and validates; `origin` names the file in errors.
    pub fn from_toml_str(text: &str, origin: &Path) -> Result<Self, ExperimentError> {
        let experiment: Experiment = toml::from_str(text).map_err(|e| ExperimentError::Parse {
            path: origin.to_path_buf(),
            message: e.to_string(),
        })?;
        experiment.validate(origin)?;
        Ok(experiment)
    }

    fn validate(&self, origin: &Path) -> Result<(), ExperimentError> {
        let invalid = |key: &str, problem: String| ExperimentError::Invalid {
            path: origin.to_path_buf(),
            key: key.to_string(),
            problem,
        };
        if self.name.trim().is_empty() {
            return Err(invalid("name", "must not be empty".into()));
        }
        self.check_sizes(origin)?;
        if let Some(mohaq_exec::ExecutorConfig::Slurm(slurm)) = &self.executor {
            slurm.validate().map_err(|m| invalid("executor", m))?;
        }
        if self.search.pop_size < 2 {
            return Err(invalid("search.pop_size", "must be at least 2".into()));
        }
        if self.search.n_offsprings == 0 {
            return Err(invalid("search.n_offsprings", "must be at least 1".into()));
        }
        if self.search.n_gen == 0 {
            return Err(invalid("search.n_gen", "must be at least 1".into()));
        }
        if let Some(widths) = &self.search.widths {
            if widths.is_empty() {
                return Err(invalid(
                    "search.widths",
                    "must list at least one width".into(),
                ));
            }
            if let Some(b) = widths
                .iter()
                .find(|b| !mohaq_precision::BitWidth::ALL_BITS.contains(b))
            {
                return Err(invalid(
                    "search.widths",
                    format!("{b} bits is not one of 2, 4, 8, 16"),
                ));
            }
        }
        check_limit(&self.constraints.max_error, "constraints.max_error", origin)?;
        if let Some(limit) = &self.constraints.max_size_mb {
            check_limit(limit, "constraints.max_size_mb", origin)?;
        }
        let needs_platform = self.kind != ExperimentKind::Compression;
        if needs_platform && self.platform.is_none() {
            return Err(invalid(
                "platform",
                format!("a {:?} experiment needs a platform file", self.kind),
            ));
        }
        if let Some(beacons) = &self.beacons {
            if beacons.mode != BeaconMode::None && self.kind == ExperimentKind::SpeedupEnergy {
                return Err(invalid(
                    "beacons.mode",
                    "beacon-based search is defined for independent weight/activation genes".into(),
                ));
            }
            if beacons.mode == BeaconMode::Fixed && beacons.fixed.is_empty() {
                return Err(invalid(
                    "beacons.fixed",
                    "fixed mode needs at least one beacon".into(),
                ));
            }
            if let Some([lo, hi]) = &beacons.band {
                check_limit(lo, "beacons.band", origin)?;
                check_limit(hi, "beacons.band", origin)?;
                if lo.resolve(1.0) >= hi.resolve(1.0) && same_kind(lo, hi) {
                    return Err(invalid(
                        "beacons.band",
                        "lower limit must be below the upper".into(),
                    ));
                }
            }
            for (i, genes) in beacons.fixed.iter().enumerate() {
                if genes.len() != 16 && genes.len() != 8 {
                    return Err(invalid(
                        &format!("beacons.fixed[{i}]"),
                        format!("needs 16 (or 8 shared) bit widths, got {}", genes.len()),
                    ));
                }
                if let Some(b) = genes
                    .iter()
                    .find(|b| !mohaq_precision::BitWidth::ALL_BITS.contains(b))
                {
                    return Err(invalid(
                        &format!("beacons.fixed[{i}]"),
                        format!("{b} bits is not one of 2, 4, 8, 16"),
                    ));
                }
            }
            if !beacons.min_speedup.is_finite() || beacons.min_speedup < 0.0 {
                return Err(invalid(
                    "beacons.min_speedup",
                    "must be finite and >= 0".into(),
                ));
            }
            if beacons.epochs == 0 && beacons.mode != BeaconMode::None {
                return Err(invalid("beacons.epochs", "must be at least 1".into()));
            }
        }
        Ok(())
    }

    /// Every count in the file within [`SIZE_LIMITS`], so that a typo (`pop_size = 10^12`) is a
    /// clear error instead of an allocation failure or a run that never ends.
    /// The same experiment with as many generations as the size limits allow, for a run that an
    /// evaluation cap or a time budget stops instead. The value depends only on the experiment, so
    /// a capped run resumes under another cap.
    pub fn without_generation_limit(mut self) -> Self {
        let room = MAX_EVALUATIONS.saturating_sub(self.search.pop_size as u64)
            / (self.search.n_offsprings.max(1) as u64);
        let most = SIZE_LIMITS
            .iter()
            .find(|(k, _, _)| *k == "search.n_gen")
            .map_or(room, |(_, limit, _)| *limit);
        self.search.n_gen = room.min(most).max(1) as usize;
        self
    }

    fn check_sizes(&self, origin: &Path) -> Result<(), ExperimentError> {
        let beacons = self.beacons.as_ref();
        let values: [(&str, Option<u64>); 10] = [
            ("search.pop_size", Some(self.search.pop_size as u64)),
            ("search.cache_mb", self.search.cache_mb),
            ("search.n_offsprings", Some(self.search.n_offsprings as u64)),
            ("search.n_gen", Some(self.search.n_gen as u64)),
            ("data.dev_utterances", Some(self.data.dev_utterances as u64)),
            (
                "data.test_utterances",
                Some(self.data.test_utterances as u64),
            ),
            (
                "beacons.distance_threshold",
                beacons.map(|b| u64::from(b.distance_threshold)),
            ),
            ("beacons.epochs", beacons.map(|b| b.epochs as u64)),
            ("beacons.max_beacons", beacons.map(|b| b.max_beacons as u64)),
            ("beacons.fixed", beacons.map(|b| b.fixed.len() as u64)),
        ];
        for (key, value) in values {
            let (_, limit, why) = SIZE_LIMITS
                .iter()
                .find(|(k, _, _)| *k == key)
                .expect("every checked key has a limit");
            if let Some(value) = value.filter(|v| v > limit) {
                return Err(ExperimentError::Invalid {
                    path: origin.to_path_buf(),
                    key: key.to_string(),
                    problem: format!("{value} is more than the limit of {limit} ({why})"),
                });
            }
        }
        let evaluations = self.search.pop_size as u128
            + self.search.n_offsprings as u128 * self.search.n_gen as u128;
        if evaluations > u128::from(MAX_EVALUATIONS) {
            return Err(ExperimentError::Invalid {
                path: origin.to_path_buf(),
                key: "search".to_string(),
                problem: format!(
                    "pop_size + n_offsprings × n_gen = {evaluations} evaluations is more than the \
                     limit of {MAX_EVALUATIONS}; lower n_gen or n_offsprings"
                ),
            });
        }
        Ok(())
    }

    /// The experiment with every relative path in it (model config and weights, data folder,
    /// platform, beacon store) taken relative to `base` and made absolute. The one place paths
    /// of an experiment are resolved: run directories store the result, so `mohaq export
    /// RUN_DIR` works from any directory. Absolute paths stay as they are.
    pub fn resolve(mut self, base: &Path) -> Self {
        let base = std::path::absolute(base).unwrap_or_else(|_| base.to_path_buf());
        let absolute = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        absolute(&mut self.model.config);
        absolute(&mut self.model.weights);
        if let Some(dir) = &mut self.data.dir {
            absolute(dir);
        }
        if let Some(platform) = &mut self.platform {
            absolute(platform);
        }
        if let Some(store) = self.beacons.as_mut().and_then(|b| b.store_dir.as_mut()) {
            absolute(store);
        }
        self
    }

    /// Whether the search retrains beacons.
    pub fn uses_beacons(&self) -> bool {
        self.beacons
            .as_ref()
            .is_some_and(|b| b.mode != BeaconMode::None)
    }
}

/// Upper bounds of the counts in an experiment file, with the reason for each. They sit far
/// above any sensible run (the paper: population 40, 10 offspring, 60 generations; the largest
/// corpus split has 1,680 utterances) and far below what exhausts memory.
pub const SIZE_LIMITS: [(&str, u64, &str); 10] = [
    (
        "search.pop_size",
        10_000,
        "each member is kept with its genes and scores",
    ),
    (
        "search.cache_mb",
        1 << 20,
        "a memory cap in MiB: more than 1 TiB is a typo",
    ),
    (
        "search.n_offsprings",
        10_000,
        "offspring are evaluated in one batch",
    ),
    ("search.n_gen", 100_000, "a generation is one checkpoint"),
    (
        "data.dev_utterances",
        100_000,
        "0 means all; no corpus has more",
    ),
    (
        "data.test_utterances",
        100_000,
        "0 means all; no corpus has more",
    ),
    (
        "beacons.distance_threshold",
        64,
        "16 genes differ by at most 3 levels each",
    ),
    ("beacons.epochs", 1_000, "each epoch is a full QAT pass"),
    (
        "beacons.max_beacons",
        1_000,
        "each beacon is a full retraining",
    ),
    ("beacons.fixed", 1_000, "each beacon is a full retraining"),
];

/// Most evaluations one search may plan (`pop_size + n_offsprings × n_gen`).
pub const MAX_EVALUATIONS: u64 = 10_000_000;

fn same_kind(a: &Limit, b: &Limit) -> bool {
    matches!(
        (a, b),
        (Limit::Absolute(_), Limit::Absolute(_)) | (Limit::Relative(_), Limit::Relative(_))
    )
}

fn check_limit(limit: &Limit, key: &str, origin: &Path) -> Result<(), ExperimentError> {
    let value = match *limit {
        Limit::Absolute(v) | Limit::Relative(v) => v,
    };
    if !value.is_finite() || value <= 0.0 {
        return Err(ExperimentError::Invalid {
            path: origin.to_path_buf(),
            key: key.to_string(),
            problem: format!("must be a positive finite number, got {value}"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
name = "compression"
kind = "compression"
[model]
config = "models/sru-default.toml"
weights = "models/sru-default.safetensors"
[search]
n_gen = 3
[constraints]
max_error = { relative = 1.446 }
"#;

    #[test]
    fn minimal_file_parses_with_defaults() {
        let e = Experiment::from_toml_str(MINIMAL, Path::new("x.toml")).unwrap();
        assert_eq!(e.search.pop_size, 40);
        assert_eq!(e.search.n_offsprings, 10);
        assert_eq!(e.seed, 1);
        assert!((e.constraints.max_error.resolve(20.0) - 28.92).abs() < 1e-9);
        assert!(!e.uses_beacons());
    }

    #[test]
    fn unknown_key_names_the_file_and_key() {
        let text = MINIMAL.replace("n_gen = 3", "n_gen = 3\npopsize = 4");
        let err = Experiment::from_toml_str(&text, Path::new("bad.toml")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("bad.toml") && msg.contains("popsize"), "{msg}");
    }

    #[test]
    fn hardware_experiment_without_platform_is_rejected() {
        let text = MINIMAL.replace("kind = \"compression\"", "kind = \"silago\"");
        let err = Experiment::from_toml_str(&text, Path::new("s.toml")).unwrap_err();
        assert!(err.to_string().contains("platform"), "{err}");
    }

    #[test]
    fn huge_sizes_are_rejected_with_their_key_and_limit() {
        let cases = [
            (
                "n_gen = 3",
                "n_gen = 3\npop_size = 1000000000000",
                "search.pop_size",
            ),
            ("n_gen = 3", "n_gen = 1000000000", "search.n_gen"),
            (
                "n_gen = 3",
                "n_gen = 100000\nn_offsprings = 1000",
                "pop_size + n_offsprings",
            ),
            (
                "[search]",
                "[data]\ndev_utterances = 100000000\n[search]",
                "data.dev_utterances",
            ),
        ];
        for (from, to, key) in cases {
            let text = MINIMAL.replace(from, to);
            let err = Experiment::from_toml_str(&text, Path::new("big.toml")).unwrap_err();
            let msg = err.to_string();
            assert!(
                msg.contains("big.toml") && msg.contains(key) && msg.contains("limit"),
                "{msg}"
            );
        }
        // A size beyond u64 is a parse error naming the key, not a panic.
        let text = MINIMAL.replace("n_gen = 3", "n_gen = 3\npop_size = 1e30");
        let err = Experiment::from_toml_str(&text, Path::new("big.toml")).unwrap_err();
        assert!(err.to_string().contains("pop_size"), "{err}");
    }

    #[test]
    fn negative_limit_is_rejected_with_its_key() {
        let text = MINIMAL.replace("relative = 1.446", "absolute = -2.0");
        let err = Experiment::from_toml_str(&text, Path::new("n.toml")).unwrap_err();
        assert!(err.to_string().contains("constraints.max_error"), "{err}");
    }
}
