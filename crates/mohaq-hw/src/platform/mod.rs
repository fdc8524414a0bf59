//! A target accelerator described as data (HARDWARE.md §5): which widths it runs, whether a
//! layer's weights and activations share one width, its memory limit, and its cost model — an
//! analytic per-precision table, the cycle-level Bit Fusion simulation, or a table of latencies the
//! user measured (`crate::measured`).

mod schema;

use crate::analytic::AnalyticModel;
use crate::bitfusion::{BitFusionSim, FcLayer};
use crate::cost::{
    bits_to_mb, model_size_bits, paper_speedup, physical_speedup, Cost, LayerCost,
    SimulationTotals, SpeedupMode,
};
use crate::error::HwError;
use crate::measured::MeasuredTable;
use crate::share::ShareOfMaximum;
use crate::toml_io;
use crate::workload::{Workload, ELEMENTWISE_BITS};
use schema::{PlatformFile, ValidatedModel};
use std::path::Path;
use std::sync::Arc;

/// Width of the baseline every speedup is relative to.
pub const BASELINE_BITS: u32 = 16;

/// How a platform turns bit widths into cost.
#[derive(Clone, Debug)]
pub enum CostModel {
    /// The paper's table lookup.
    Analytic(AnalyticModel),
    /// The cycle-level Bit Fusion model; every layer runs over `batch` frames. The simulator
    /// memoises its searches and is shared by clones of the platform.
    BitFusionSim { sim: Arc<BitFusionSim>, batch: u64 },
    /// Per-layer latencies (and energies) the user measured or simulated.
    Table(Arc<MeasuredTable>),
}

/// A loaded, validated platform.
#[derive(Clone, Debug)]
pub struct Platform {
    name: String,
    description: Option<String>,
    weight_bits: Vec<u32>,
    activation_bits: Vec<u32>,
    shared_width: bool,
    memory_limit_mb: f64,
    speedup_objective: SpeedupMode,
    model: CostModel,
}

impl Platform {
    /// Loads a platform file; a relative Bit Fusion config path is resolved from its folder.
    pub fn from_toml_file(path: impl AsRef<Path>) -> Result<Self, HwError> {
        let path = path.as_ref();
        let text = toml_io::read(path)?;
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        Self::parse(&text, &path.display().to_string(), base)
    }

    /// Parses platform text; errors name `<inline>`, relative paths resolve from the current
    /// directory.
    pub fn from_toml_str(text: &str) -> Result<Self, HwError> {
        Self::parse(text, "<inline>", Path::new("."))
    }

    fn parse(text: &str, file: &str, base_dir: &Path) -> Result<Self, HwError> {
        let raw: PlatformFile = toml_io::deserialize(text, file)?;
        let model = match raw.validate(file, base_dir)? {
            ValidatedModel::Analytic(model) => CostModel::Analytic(model),
            ValidatedModel::BitFusionSim { config, batch } => CostModel::BitFusionSim {
                sim: Arc::new(BitFusionSim::new(config)),
                batch,
            },
            ValidatedModel::Table(table) => CostModel::Table(Arc::new(table)),
        };
        Ok(Platform {
            name: raw.name,
            description: raw.description,
            weight_bits: raw.weight_bits,
            activation_bits: raw.activation_bits,
            shared_width: raw.shared_width,
            memory_limit_mb: raw.memory_limit_mb,
            speedup_objective: raw.speedup_objective,
            model,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    pub fn allowed_weight_bits(&self) -> &[u32] {
        &self.weight_bits
    }
    pub fn allowed_activation_bits(&self) -> &[u32] {
        &self.activation_bits
    }
    pub fn shared_width(&self) -> bool {
        self.shared_width
    }
    pub fn memory_limit_mb(&self) -> f64 {
        self.memory_limit_mb
    }
    pub fn speedup_objective(&self) -> SpeedupMode {
        self.speedup_objective
    }
    pub fn cost_model(&self) -> &CostModel {
        &self.model
    }
    /// Whether the platform reports energy.
    pub fn has_energy(&self) -> bool {
        match &self.model {
            CostModel::Analytic(m) => m.memory_energy_pj_per_bit().is_some(),
            CostModel::BitFusionSim { .. } => true,
            CostModel::Table(table) => table.has_energy(),
        }
    }

    /// Every (weight bits, activation bits) pair the platform can run.
    pub fn allowed_pairs(&self) -> Vec<(u32, u32)> {
        schema::allowed_pairs(&self.weight_bits, &self.activation_bits, self.shared_width)
    }

    /// Why a pair cannot run, or `None` when it can.
    pub fn precision_problem(&self, weight_bits: u32, activation_bits: u32) -> Option<String> {
        if !self.weight_bits.contains(&weight_bits) {
            return Some(format!("weight widths allowed: {:?}", self.weight_bits));
        }
        if !self.activation_bits.contains(&activation_bits) {
            return Some(format!(
                "activation widths allowed: {:?}",
                self.activation_bits
            ));
        }
        if self.shared_width && weight_bits != activation_bits {
            return Some("weights and activations must share one width on this platform".into());
        }
        None
    }

    /// Costs `workload` with `bits[l] = (weight bits, activation bits)` of layer l.
    pub fn evaluate(&self, workload: &Workload, bits: &[(u32, u32)]) -> Result<Cost, HwError> {
        self.check_bits(workload, bits)?;
        let size_bits = model_size_bits(workload, bits.iter().map(|b| b.0));
        let mut cost = match &self.model {
            CostModel::Analytic(model) => self.evaluate_analytic(model, workload, bits),
            CostModel::BitFusionSim { sim, batch } => {
                self.evaluate_sim(sim, *batch, workload, bits)?
            }
            CostModel::Table(table) => self.evaluate_table(table, workload, bits)?,
        };
        cost.size_mb = bits_to_mb(size_bits);
        cost.fits_memory = cost.size_mb <= self.memory_limit_mb;
        Ok(cost)
    }

    fn check_bits(&self, workload: &Workload, bits: &[(u32, u32)]) -> Result<(), HwError> {
        if bits.len() != workload.layers().len() {
            return Err(HwError::LayerCountMismatch {
                workload: workload.name().to_string(),
                expected: workload.layers().len(),
                got: bits.len(),
            });
        }
        for (index, (layer, &(w, a))) in workload.layers().iter().zip(bits).enumerate() {
            if let Some(reason) = self.precision_problem(w, a) {
                return Err(HwError::UnsupportedPrecision {
                    platform: self.name.clone(),
                    index,
                    layer: layer.name.clone(),
                    weight_bits: w,
                    activation_bits: a,
                    reason,
                });
            }
        }
        Ok(())
    }

    fn empty_cost(&self, paper: f64, physical: f64, layers: Vec<LayerCost>) -> Cost {
        Cost {
            speedup: match self.speedup_objective {
                SpeedupMode::Paper => paper,
                SpeedupMode::Physical => physical,
            },
            speedup_mode: self.speedup_objective,
            speedup_paper: paper,
            speedup_physical: physical,
            energy_uj_per_frame: None,
            size_mb: 0.0,
            memory_limit_mb: self.memory_limit_mb,
            fits_memory: false,
            layers,
            simulation: None,
            latency_us_per_frame: None,
        }
    }

    fn evaluate_analytic(
        &self,
        model: &AnalyticModel,
        workload: &Workload,
        bits: &[(u32, u32)],
    ) -> Cost {
        let memory_pj = model.memory_energy_pj_per_bit();
        let mut layers = Vec::with_capacity(bits.len());
        let mut energy_pj = memory_pj
            .map(|m| (workload.elementwise_params() * u64::from(ELEMENTWISE_BITS)) as f64 * m);
        for (layer, &(w, a)) in workload.layers().iter().zip(bits) {
            // `check_bits` and the loader guarantee a row for every allowed pair.
            let row = model.lookup(w, a);
            let speedup = row.map_or(1.0, |r| r.speedup);
            let layer_size = layer.weights * u64::from(w);
            let layer_pj = match (memory_pj, row.and_then(|r| r.mac_energy_pj)) {
                (Some(m), Some(e)) => Some(layer_size as f64 * m + layer.macs as f64 * e),
                _ => None,
            };
            energy_pj = match (energy_pj, layer_pj) {
                (Some(total), Some(l)) => Some(total + l),
                _ => None,
            };
            layers.push(LayerCost {
                name: layer.name.clone(),
                weight_bits: w,
                activation_bits: a,
                weights: layer.weights,
                macs: layer.macs,
                speedup,
                size_bits: layer_size,
                energy_uj: layer_pj.map(|pj| pj / 1e6),
                cycles_per_frame: None,
                latency_us: None,
            });
        }
        let speedups: Vec<f64> = layers.iter().map(|l| l.speedup).collect();
        let paper = paper_speedup(workload, &speedups, model.speedup_divisor());
        let physical = physical_speedup(workload, &speedups);
        let mut cost = self.empty_cost(paper, physical, layers);
        cost.energy_uj_per_frame = energy_pj.map(|pj| pj / 1e6);
        cost
    }

    fn evaluate_sim(
        &self,
        sim: &BitFusionSim,
        batch: u64,
        workload: &Workload,
        bits: &[(u32, u32)],
    ) -> Result<Cost, HwError> {
        let shapes = workload
            .layers()
            .iter()
            .map(|l| {
                l.shape.ok_or_else(|| HwError::MissingShape {
                    layer: l.name.clone(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let fc = |(inputs, outputs): (u64, u64), w: u32, a: u32| {
            FcLayer::new(inputs, outputs, batch, a, w)
        };
        let chosen = shapes
            .iter()
            .zip(bits)
            .map(|(&s, &(w, a))| fc(s, w, a))
            .collect::<Result<Vec<_>, _>>()?;
        let baseline = shapes
            .iter()
            .map(|&s| fc(s, BASELINE_BITS, BASELINE_BITS))
            .collect::<Result<Vec<_>, _>>()?;
        let run = sim.run_sequence(&chosen)?;
        let base = sim.run_sequence(&baseline)?;

        let mut layers = Vec::with_capacity(bits.len());
        for ((layer, &(w, a)), (r, b)) in workload
            .layers()
            .iter()
            .zip(bits)
            .zip(run.layers.iter().zip(&base.layers))
        {
            layers.push(LayerCost {
                name: layer.name.clone(),
                weight_bits: w,
                activation_bits: a,
                weights: layer.weights,
                macs: layer.macs,
                speedup: b.counters.cycles as f64 / r.counters.cycles as f64,
                size_bits: layer.weights * u64::from(w),
                energy_uj: Some(r.energy.total_nj / batch as f64 / 1000.0),
                cycles_per_frame: Some(r.counters.cycles as f64 / batch as f64),
                latency_us: None,
            });
        }
        let speedups: Vec<f64> = layers.iter().map(|l| l.speedup).collect();
        let paper = paper_speedup(workload, &speedups, 1.0);
        let physical = base.cycles_per_batch as f64 / run.cycles_per_batch as f64;
        let mut cost = self.empty_cost(paper, physical, layers);
        cost.energy_uj_per_frame = Some(run.energy_uj_per_frame());
        cost.simulation = Some(SimulationTotals {
            batch,
            cycles_per_batch: run.cycles_per_batch,
            baseline_cycles_per_batch: base.cycles_per_batch,
            cycles_per_frame: run.cycles_per_frame(),
            microseconds_per_frame: run.microseconds_per_frame(),
            energy_uj_per_frame: run.energy_uj_per_frame(),
            frequency_mhz: run.frequency_mhz,
        });
        Ok(cost)
    }

    /// Costs from a measured table (`crate::measured` states the lookup and speedup rules). The
    /// whole workload is checked against the table first, so a typo fails every evaluation, not
    /// only those that happen to use the layer.
    fn evaluate_table(
        &self,
        table: &MeasuredTable,
        workload: &Workload,
        bits: &[(u32, u32)],
    ) -> Result<Cost, HwError> {
        let baseline_pair = self.baseline_pair();
        table.check_workload(workload, &self.allowed_pairs())?;
        let mut layers = Vec::with_capacity(bits.len());
        let (mut base_total, mut total) = (0.0, 0.0);
        for (layer, &(w, a)) in workload.layers().iter().zip(bits) {
            let row = table.lookup(layer, w, a)?;
            let base = table.lookup(layer, baseline_pair.0, baseline_pair.1)?;
            base_total += base.latency_us;
            total += row.latency_us;
            layers.push(LayerCost {
                name: layer.name.clone(),
                weight_bits: w,
                activation_bits: a,
                weights: layer.weights,
                macs: layer.macs,
                speedup: base.latency_us / row.latency_us,
                size_bits: layer.weights * u64::from(w),
                energy_uj: row.energy_uj,
                cycles_per_frame: None,
                latency_us: Some(row.latency_us),
            });
        }
        let speedups: Vec<f64> = layers.iter().map(|l| l.speedup).collect();
        let paper = paper_speedup(workload, &speedups, 1.0);
        let mut cost = self.empty_cost(paper, base_total / total, layers);
        if table.has_energy() {
            cost.energy_uj_per_frame = cost.layers.iter().map(|l| l.energy_uj).sum();
        }
        cost.latency_us_per_frame = Some(total);
        Ok(cost)
    }

    /// The pair every speedup is relative to: the widest allowed widths (16/16 on every shipped
    /// platform).
    pub fn baseline_pair(&self) -> (u32, u32) {
        self.allowed_pairs()
            .into_iter()
            .max_by_key(|&(w, a)| (w.min(a), w.max(a)))
            .unwrap_or((BASELINE_BITS, BASELINE_BITS))
    }

    /// The reference points of the paper's "% of the maximum possible" figures: the all-16-bit
    /// baseline (widest allowed widths), the fastest and the least-energy assignments. All three
    /// models are additive over layers, so each extreme picks per layer the pair that is best for
    /// that layer alone.
    pub fn extremes(&self, workload: &Workload) -> Result<Extremes, HwError> {
        let pairs = self.allowed_pairs();
        let widest = self.baseline_pair();
        let n = workload.layers().len();
        let baseline = self.evaluate(workload, &vec![widest; n])?;

        // Per-layer costs of every pair, from one evaluation per pair.
        let per_pair = pairs
            .iter()
            .map(|&p| self.evaluate(workload, &vec![p; n]))
            .collect::<Result<Vec<_>, _>>()?;
        let pick = |score: &dyn Fn(&LayerCost) -> f64| -> Vec<(u32, u32)> {
            (0..n)
                .map(|l| {
                    let mut best = 0;
                    for k in 1..pairs.len() {
                        if score(&per_pair[k].layers[l]) < score(&per_pair[best].layers[l]) {
                            best = k;
                        }
                    }
                    pairs[best]
                })
                .collect()
        };
        let fastest_bits = pick(&|c: &LayerCost| -c.speedup);
        let fastest = self.evaluate(workload, &fastest_bits)?;
        let least_energy = if self.has_energy() {
            let bits = pick(&|c: &LayerCost| c.energy_uj.unwrap_or(f64::INFINITY));
            Some(self.evaluate(workload, &bits)?)
        } else {
            None
        };
        Ok(Extremes {
            baseline,
            fastest,
            least_energy,
        })
    }

    /// Both readings of "% of the maximum possible speedup / energy saving" for `cost`.
    pub fn share_of_maximum(&self, workload: &Workload, cost: &Cost) -> Result<Shares, HwError> {
        let ex = self.extremes(workload)?;
        let speedup =
            ShareOfMaximum::speedup(cost.speedup, ex.baseline.speedup, ex.fastest.speedup);
        let energy = match (
            cost.energy_uj_per_frame,
            ex.baseline.energy_uj_per_frame,
            ex.least_energy.as_ref().and_then(|c| c.energy_uj_per_frame),
        ) {
            (Some(e), Some(e_base), Some(e_min)) => {
                Some(ShareOfMaximum::energy_saving(e, e_base, e_min))
            }
            _ => None,
        };
        Ok(Shares { speedup, energy })
    }
}

/// Reference assignments of a workload on a platform.
#[derive(Clone, Debug)]
pub struct Extremes {
    /// Every layer at the widest allowed widths (16 bits on the paper's platforms).
    pub baseline: Cost,
    /// Every layer at its fastest pair.
    pub fastest: Cost,
    /// Every layer at its least-energy pair (when the platform models energy).
    pub least_energy: Option<Cost>,
}

/// Both readings of the paper's percentages for one cost.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Shares {
    pub speedup: ShareOfMaximum,
    pub energy: Option<ShareOfMaximum>,
}
