//! The MOHAQ problem as a mohaq-evo [`Problem`]: genes → per-layer widths, the model's error and
//! the platform's cost → objectives and normalised constraints of METHOD §5.3.
//!
//! Genes are indices into the allowed widths (mohaq-evo's `Variable::Choice`), in the order of
//! the codec over the model's layer table. A platform whose layers share one width (SiLago) gets
//! one gene per layer (8 for the paper's SRU); otherwise two (the paper's 16 genes).
//! Constraints are `value / limit − 1`, so that violations of different units add up sensibly
//! in the constraint violation the tournament compares.

use mohaq_evo::{Evaluation, Genes, Problem, Space, Variable};
use mohaq_hw::Platform;
use mohaq_precision::{rule, BitWidth, GeneCodec};
use rayon::prelude::*;

use crate::beacons::BeaconSearch;
use crate::dispatch::{sharded_ptq_scores, Dispatch, PtqContext};
use crate::error::{GeneError, ProblemError};
use crate::experiment::{Experiment, ExperimentKind};
use crate::genes::{LayerBits, MAX_LAYERS};
use crate::limits::ResolvedLimits;
use crate::model::{size_mb, ErrorModel};
pub use crate::score::{CandidateScore, CostSummary};

/// How genes map to layers (the codec's): the paper's 16 or 8 shared.
pub use mohaq_precision::GeneLayout;

/// The problem of one experiment on one model (and platform).
pub struct MohaqProblem<'a, M: ErrorModel> {
    kind: ExperimentKind,
    layout: GeneLayout,
    /// Genes ↔ widths for the model's layer table in `layout`.
    codec: GeneCodec,
    space: Space,
    model: &'a M,
    platform: Option<&'a Platform>,
    limits: ResolvedLimits,
    beacons: Option<BeaconSearch<'a, M::Weights>>,
    /// Where large batches are scored, with the context their shards carry.
    remote: Option<(Dispatch, serde_json::Value)>,
}

impl<'a, M: ErrorModel> MohaqProblem<'a, M> {
    /// Builds the problem; fails when the platform cannot run the requested widths or lacks
    /// what the experiment's objectives need.
    pub fn new(
        experiment: &Experiment,
        model: &'a M,
        platform: Option<&'a Platform>,
        limits: ResolvedLimits,
    ) -> Result<Self, ProblemError> {
        let setup = |m: String| ProblemError::Setup(m);
        let table = model.layer_table();
        let workload_names: Vec<&str> = model
            .workload()
            .layers()
            .iter()
            .map(|l| l.name.as_str())
            .collect();
        if table.names() != workload_names.as_slice() {
            return Err(setup(format!(
                "model `{}`: its layer table {:?} and its workload {:?} disagree",
                model.name(),
                table.names(),
                workload_names
            )));
        }
        if table.len() > MAX_LAYERS {
            return Err(setup(format!(
                "model `{}` has {} matrix layers; the search handles at most {MAX_LAYERS}",
                model.name(),
                table.len()
            )));
        }
        check_platform(experiment, platform)?;
        let requested = experiment.search.widths.clone();
        let (layout, weight_widths, activation_widths) = match platform {
            None => {
                let w = requested.unwrap_or_else(|| BitWidth::ALL_BITS.to_vec());
                (GeneLayout::Independent, w.clone(), w)
            }
            Some(p) => {
                let layout = if p.shared_width() {
                    GeneLayout::Shared
                } else {
                    GeneLayout::Independent
                };
                let (w, a) = platform_widths(p, requested.as_deref())?;
                (layout, w, a)
            }
        };
        let choice = |widths: &[u32]| Variable::Choice {
            values: widths.iter().map(|&b| i64::from(b)).collect(),
        };
        let codec = GeneCodec::new(table, layout);
        let variables = (0..codec.len())
            .map(|g| {
                if codec.is_weight_gene(g) {
                    choice(&weight_widths)
                } else if Some(g) == codec.output_activation_gene() {
                    choice(&rule::output_activation_choices(&activation_widths))
                } else {
                    choice(&activation_widths)
                }
            })
            .collect();
        let space = Space::new(variables).map_err(|e| setup(e.to_string()))?;
        let mut limits = limits;
        let fc_two = match layout {
            GeneLayout::Independent => activation_widths.contains(&2).then(|| {
                "the FC activation gene takes no 2-bit value (the widths allow 2): the FC input \
                 is never quantized to 2 bits (METHOD §5.1), so it runs at 4 and up"
                    .to_string()
            }),
            GeneLayout::Shared => weight_widths.contains(&2).then(|| {
                "a 2-bit FC gene quantizes the FC weights to 2 bits and its input to 4 bits: \
                 the FC input is never quantized to 2 bits (METHOD §5.1)"
                    .to_string()
            }),
        };
        limits.notes.extend(fc_two);
        limits.notes.extend(model.notes());
        Ok(Self {
            kind: experiment.kind,
            layout,
            codec,
            space,
            model,
            platform,
            limits,
            beacons: None,
            remote: None,
        })
    }

    /// Scores batches of at least one shard through `dispatch` (see [`crate::dispatch`]);
    /// `experiment` is the one the problem was built from.
    pub fn with_dispatch(
        mut self,
        dispatch: Dispatch,
        experiment: &Experiment,
    ) -> Result<Self, ProblemError> {
        let mut experiment = experiment.clone();
        // How the work is executed is no part of the work: the same batch under other executor
        // settings is the same batch.
        experiment.executor = None;
        experiment.search.cache_mb = None;
        let context = PtqContext {
            experiment,
            limits: self.limits.clone(),
            platform_name: self.platform.map(|p| p.name().to_string()),
            model: dispatch.model.clone(),
        };
        let context = serde_json::to_value(&context)
            .map_err(|e| ProblemError::Setup(format!("cannot serialise the shard context: {e}")))?;
        self.remote = Some((dispatch, context));
        Ok(self)
    }

    /// Scores promising candidates with retrained beacons (METHOD §6).
    pub fn with_beacons(mut self, beacons: BeaconSearch<'a, M::Weights>) -> Self {
        self.beacons = Some(beacons);
        self
    }

    pub fn beacons(&self) -> Option<&BeaconSearch<'a, M::Weights>> {
        self.beacons.as_ref()
    }

    pub fn layout(&self) -> GeneLayout {
        self.layout
    }

    /// Genes ↔ widths of this problem (the model's layer table in its layout).
    pub fn codec(&self) -> &GeneCodec {
        &self.codec
    }

    pub fn kind(&self) -> ExperimentKind {
        self.kind
    }

    pub fn limits(&self) -> &ResolvedLimits {
        &self.limits
    }

    /// The platform costs come from (none for the compression experiment).
    pub fn platform(&self) -> Option<&'a Platform> {
        self.platform
    }

    pub fn model(&self) -> &'a M {
        self.model
    }

    /// Names of the objectives, in order.
    pub fn objective_names(&self) -> Vec<&'static str> {
        match self.kind {
            ExperimentKind::Compression => vec!["error_pct", "size_mb"],
            ExperimentKind::SpeedupEnergy => vec!["error_pct", "neg_speedup", "energy_uj"],
            ExperimentKind::Speedup => vec!["error_pct", "neg_speedup"],
        }
    }

    /// Widths of a candidate (the FC activation rule applied).
    pub fn bits_of(&self, genes: &[f64]) -> Result<LayerBits, GeneError> {
        let values: Vec<u32> = self
            .space
            .decode(genes)
            .into_iter()
            .map(|v| v as u32)
            .collect();
        LayerBits::decode(&self.codec, &values)
    }

    /// The genes standing for `bits`, if the space holds them.
    pub fn genes_of(&self, bits: &LayerBits) -> Option<Genes> {
        let values = bits.genes_in(&self.codec)?;
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| self.space.encode_value(i, f64::from(v)))
            .collect()
    }

    /// Hardware cost of `bits` (size only without a platform).
    pub fn cost(&self, bits: &LayerBits) -> Result<CostSummary, ProblemError> {
        let workload = self.model.workload();
        match self.platform {
            Some(p) if self.kind != ExperimentKind::Compression => {
                let cost = p.evaluate(workload, &bits.pairs())?;
                Ok(CostSummary {
                    size_mb: cost.size_mb,
                    speedup: Some(cost.speedup),
                    speedup_physical: Some(cost.speedup_physical),
                    energy_uj: cost.energy_uj_per_frame,
                })
            }
            _ => Ok(CostSummary {
                size_mb: size_mb(workload, bits),
                speedup: None,
                speedup_physical: None,
                energy_uj: None,
            }),
        }
    }

    /// Objectives and constraints of a scored candidate.
    pub fn evaluation_of(&self, score: &CandidateScore) -> Evaluation {
        let c = &score.cost;
        let objectives = match self.kind {
            ExperimentKind::Compression => vec![score.error, c.size_mb],
            ExperimentKind::SpeedupEnergy => vec![
                score.error,
                -c.speedup.unwrap_or(0.0),
                c.energy_uj.unwrap_or(f64::INFINITY),
            ],
            ExperimentKind::Speedup => vec![score.error, -c.speedup.unwrap_or(0.0)],
        };
        let mut constraints = Vec::with_capacity(2);
        if let Some(size) = &self.limits.max_size_mb {
            constraints.push(c.size_mb / size.value - 1.0);
        }
        constraints.push(score.error / self.limits.max_error.value - 1.0);
        Evaluation::new(objectives, constraints)
    }

    /// Inference-only score: PTQ error on the base weights and cost.
    pub fn ptq_score(&self, genes: &[f64]) -> Result<CandidateScore, ProblemError> {
        self.ptq_scores(&[genes.to_vec()])
            .pop()
            .unwrap_or_else(|| Err(ProblemError::Setup("empty batch".into())))
    }

    /// Inference-only scores of a batch, in order: the same as [`Self::ptq_score`] on each, with
    /// the model's errors computed in one [`ErrorModel::errors`] call, so a model can share work
    /// between candidates (the SRU reuses every common width prefix). A candidate whose genes
    /// or cost fail gets its own error and is left out of the model's batch.
    pub fn ptq_scores(&self, batch: &[Genes]) -> Vec<Result<CandidateScore, ProblemError>> {
        let prepared: Vec<Result<(LayerBits, CostSummary), ProblemError>> = batch
            .par_iter()
            .map(|g| {
                let bits = self.bits_of(g)?;
                let cost = self.cost(&bits)?;
                Ok((bits, cost))
            })
            .collect();
        let valid: Vec<LayerBits> = prepared
            .iter()
            .filter_map(|p| p.as_ref().ok().map(|(bits, _)| *bits))
            .collect();
        let mut errors = self.model.errors(&valid).into_iter();
        prepared
            .into_iter()
            .map(|p| {
                let (bits, cost) = p?;
                let ptq_error = errors.next().unwrap_or_else(|| {
                    Err(crate::error::ModelFailure::new(
                        bits.display_genes(),
                        "the model returned fewer errors than candidates",
                    ))
                })?;
                Ok(CandidateScore {
                    bits,
                    error: ptq_error,
                    ptq_error,
                    beacon_error: None,
                    beacon: None,
                    cost,
                })
            })
            .collect()
    }

    /// The score of an archived evaluation without evaluating the model again: the beacon
    /// record if there is one, else the error objective with the (cheap) cost recomputed.
    pub fn score_of_evaluated(
        &self,
        genes: &[f64],
        evaluation: &Evaluation,
    ) -> Result<CandidateScore, ProblemError> {
        if let Some(b) = &self.beacons {
            if let Some(score) = b.recorded_score(genes) {
                return Ok(score);
            }
        }
        let bits = self.bits_of(genes)?;
        let error = evaluation
            .objectives
            .first()
            .copied()
            .ok_or_else(|| ProblemError::Setup("an evaluation without objectives".into()))?;
        Ok(CandidateScore {
            bits,
            error,
            ptq_error: error,
            beacon_error: None,
            beacon: None,
            cost: self.cost(&bits)?,
        })
    }

    /// Test-split error of a scored candidate, on the weights that gave its score.
    pub fn test_error(&self, score: &CandidateScore) -> Result<f64, ProblemError> {
        match (score.uses_beacon_weights(), &self.beacons) {
            (Some(index), Some(b)) => {
                let weights = b.weights(index)?;
                Ok(self.model.test_error(&score.bits, Some(&weights))?)
            }
            _ => Ok(self.model.test_error(&score.bits, None)?),
        }
    }

    /// Whether a candidate is promising (METHOD §6): PTQ error in the band, enough speedup,
    /// within the memory limit.
    pub fn is_promising(&self, score: &CandidateScore, band: [f64; 2], min_speedup: f64) -> bool {
        let in_band = score.ptq_error > band[0] && score.ptq_error < band[1];
        let fast = score.cost.speedup.is_none_or(|s| s >= min_speedup);
        let fits = self
            .limits
            .max_size_mb
            .as_ref()
            .is_none_or(|l| score.cost.size_mb <= l.value);
        in_band && fast && fits
    }
}

/// Whether `platform` can serve `experiment`: present when its objectives need one, with an
/// energy model when it minimises energy, running every width of `search.widths`. Needs no
/// model, so a command can refuse a mismatch before it loads any data; [`MohaqProblem::new`]
/// makes the same check.
pub fn check_platform(
    experiment: &Experiment,
    platform: Option<&Platform>,
) -> Result<(), ProblemError> {
    let setup = |m: String| ProblemError::Setup(m);
    if experiment.kind != ExperimentKind::Compression && platform.is_none() {
        return Err(setup(format!(
            "experiment `{}` ({:?}) needs a platform",
            experiment.name, experiment.kind
        )));
    }
    if experiment.kind == ExperimentKind::SpeedupEnergy && !platform.is_some_and(|p| p.has_energy())
    {
        return Err(setup(format!(
            "experiment `{}` minimises energy, but platform `{}` has no energy model",
            experiment.name,
            platform.map_or("?", |p| p.name())
        )));
    }
    if let Some(p) = platform {
        platform_widths(p, experiment.search.widths.as_deref())?;
    }
    Ok(())
}

/// The widths of the genes on `platform`: those requested (each must run there) or all the
/// platform runs.
fn platform_widths(
    p: &Platform,
    requested: Option<&[u32]>,
) -> Result<(Vec<u32>, Vec<u32>), ProblemError> {
    let shared: Vec<u32> = p
        .allowed_weight_bits()
        .iter()
        .copied()
        .filter(|b| p.allowed_activation_bits().contains(b))
        .collect();
    let (mut w, mut a) = if p.shared_width() {
        (shared.clone(), shared)
    } else {
        (
            p.allowed_weight_bits().to_vec(),
            p.allowed_activation_bits().to_vec(),
        )
    };
    if let Some(req) = requested {
        for &b in req {
            if !w.contains(&b) || !a.contains(&b) {
                return Err(ProblemError::Setup(format!(
                    "platform `{}` cannot run {b}-bit layers (weights: {:?}, activations: {:?}); \
                     change `search.widths` or the platform",
                    p.name(),
                    p.allowed_weight_bits(),
                    p.allowed_activation_bits()
                )));
            }
        }
        w = req.to_vec();
        a = req.to_vec();
    }
    for list in [&w, &a] {
        if let Some(b) = list.iter().find(|b| !BitWidth::ALL_BITS.contains(b)) {
            return Err(ProblemError::Setup(format!(
                "platform `{}` allows {b}-bit operands; MOHAQ searches 2, 4, 8 and 16 only",
                p.name()
            )));
        }
    }
    w.sort_unstable();
    a.sort_unstable();
    Ok((w, a))
}

impl<M: ErrorModel> Problem for MohaqProblem<'_, M> {
    type Error = ProblemError;

    fn space(&self) -> &Space {
        &self.space
    }

    fn n_objectives(&self) -> usize {
        self.objective_names().len()
    }

    fn n_constraints(&self) -> usize {
        1 + usize::from(self.limits.max_size_mb.is_some())
    }

    fn evaluate(&self, genes: &[f64]) -> Result<Evaluation, ProblemError> {
        let mut results = self.evaluate_batch(&[genes.to_vec()]);
        results
            .pop()
            .unwrap_or_else(|| Err(ProblemError::Setup("empty batch".into())))
    }

    fn evaluate_batch(&self, batch: &[Genes]) -> Vec<Result<Evaluation, ProblemError>> {
        let remote = self
            .remote
            .as_ref()
            .and_then(|(d, context)| sharded_ptq_scores(self, d, context, batch));
        let scores: Vec<Result<CandidateScore, ProblemError>> = match remote {
            Some(Ok(scores)) => scores.into_iter().map(Ok).collect(),
            Some(Err(message)) => {
                let message = format!(
                    "evaluating a batch of {} through the executor: {message}",
                    batch.len()
                );
                batch
                    .iter()
                    .map(|_| Err(ProblemError::Setup(message.clone())))
                    .collect()
            }
            None => self.ptq_scores(batch),
        };
        let scores = match &self.beacons {
            Some(b) => {
                let (band, min_speedup) = (b.settings().band, b.settings().min_speedup);
                let promising = |s: &CandidateScore| self.is_promising(s, band, min_speedup);
                b.rescore(self.model, &promising, batch, scores)
            }
            None => scores,
        };
        scores
            .into_iter()
            .map(|s| s.map(|s| self.evaluation_of(&s)))
            .collect()
    }
}
