//! The problem's batch evaluation hands the model one `ErrorModel::errors` batch (so a model can
//! share work between candidates), keeps candidate order, and gives a failing candidate its own
//! error; `[search] cache_mb` is read, bounded, and not part of the work a shard carries.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use mohaq_beacon::error::ModelFailure;
use mohaq_beacon::experiment::{Experiment, DEFAULT_CACHE_MB};
use mohaq_beacon::limits::ResolvedLimits;
use mohaq_beacon::problem::MohaqProblem;
use mohaq_beacon::synthetic::{SyntheticModel, SyntheticWeights};
use mohaq_beacon::{ErrorModel, LayerBits};
use mohaq_evo::{Genes, Problem};
use mohaq_hw::{Platform, Workload};

/// The synthetic model, recording the size of every batch, failing for one configuration.
struct Recording {
    inner: SyntheticModel,
    batches: Mutex<Vec<usize>>,
    fails_on: Option<LayerBits>,
}

impl ErrorModel for Recording {
    type Weights = SyntheticWeights;
    fn name(&self) -> String {
        self.inner.name()
    }
    fn workload(&self) -> &Workload {
        self.inner.workload()
    }
    fn float_error(&self) -> Result<f64, ModelFailure> {
        self.inner.float_error()
    }
    fn error(&self, bits: &LayerBits, w: Option<&SyntheticWeights>) -> Result<f64, ModelFailure> {
        if self.fails_on == Some(*bits) {
            return Err(ModelFailure::new(
                bits.display_genes(),
                "refused on purpose",
            ));
        }
        self.inner.error(bits, w)
    }
    fn errors(&self, bits: &[LayerBits]) -> Vec<Result<f64, ModelFailure>> {
        self.batches.lock().unwrap().push(bits.len());
        bits.iter().map(|b| self.error(b, None)).collect()
    }
    fn test_error(
        &self,
        bits: &LayerBits,
        w: Option<&SyntheticWeights>,
    ) -> Result<f64, ModelFailure> {
        self.inner.test_error(bits, w)
    }
}

fn experiment(extra: &str) -> Result<Experiment, mohaq_beacon::error::ExperimentError> {
    let text = format!(
        r#"
name = "silago"
kind = "speedup_energy"
platform = "p.toml"
[model]
config = "m.toml"
weights = "m.safetensors"
[search]
pop_size = 12
n_offsprings = 4
n_gen = 8
{extra}
[constraints]
max_error = {{ relative = 1.5 }}
max_size_mb = {{ absolute = 6.0 }}
"#
    );
    Experiment::from_toml_str(&text, Path::new("test.toml"))
}

fn silago() -> Platform {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../platforms/silago.toml");
    Platform::from_toml_file(path).unwrap()
}

#[test]
fn a_batch_is_one_model_call_in_candidate_order_with_failures_kept_apart() {
    let platform = silago();
    let exp = experiment("").unwrap();
    // Distinct candidates: base-3 digits of spread-out indices.
    let batch: Vec<Genes> = (0..9u32)
        .map(|i| {
            let n = i * 811;
            (0..8).map(|g| f64::from((n / 3u32.pow(g)) % 3)).collect()
        })
        .collect();
    let plain = Recording {
        inner: SyntheticModel::new(),
        batches: Mutex::new(Vec::new()),
        fails_on: None,
    };
    let limits = ResolvedLimits::resolve(&exp, 18.0, 21.2, Some(&platform));
    let problem = MohaqProblem::new(&exp, &plain, Some(&platform), limits.clone()).unwrap();
    let together = problem.evaluate_batch(&batch);
    assert_eq!(*plain.batches.lock().unwrap(), vec![batch.len()]);
    for (genes, got) in batch.iter().zip(&together) {
        let alone = problem.evaluate(genes).unwrap();
        assert_eq!(got.as_ref().unwrap(), &alone);
    }

    let bad = problem.bits_of(&batch[4]).unwrap();
    let failing = Recording {
        inner: SyntheticModel::new(),
        batches: Mutex::new(Vec::new()),
        fails_on: Some(bad),
    };
    let problem = MohaqProblem::new(&exp, &failing, Some(&platform), limits).unwrap();
    let scores = problem.ptq_scores(&batch);
    for (i, (score, want)) in scores.iter().zip(&together).enumerate() {
        if i == 4 {
            let message = score.as_ref().unwrap_err().to_string();
            assert!(message.contains("refused on purpose"), "{message}");
        } else {
            let evaluation = problem.evaluation_of(score.as_ref().unwrap());
            assert_eq!(&evaluation, want.as_ref().unwrap());
        }
    }
}

#[test]
fn the_cache_cap_is_read_defaulted_and_bounded() {
    assert_eq!(experiment("").unwrap().search.cache_mb(), DEFAULT_CACHE_MB);
    assert_eq!(experiment("cache_mb = 0").unwrap().search.cache_mb(), 0);
    assert_eq!(experiment("cache_mb = 512").unwrap().search.cache_mb(), 512);
    let message = experiment("cache_mb = 4194304").unwrap_err().to_string();
    assert!(message.contains("search.cache_mb"), "{message}");
}
