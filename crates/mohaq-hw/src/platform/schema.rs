//! The TOML schema of a platform file and its validation. Serde rejects unknown keys and missing
//! required keys; [`PlatformFile::validate`] rejects values that parse but make no sense, naming
//! the key.
//!
//! ```toml
//! name = "SiLago"
//! weight_bits = [4, 8, 16]
//! activation_bits = [4, 8, 16]
//! shared_width = true             # a layer's weights and activations use one width
//! memory_limit_mb = 6.0
//! speedup_objective = "paper"     # or "physical"
//! cost_model = "analytic"         # or "bitfusion_sim"
//!
//! [analytic]
//! memory_energy_pj_per_bit = 0.08 # optional; with mac_energy_pj gives an energy objective
//! speedup_divisor = 1.0           # optional, default 1 (paper mode only)
//! [[analytic.precision]]
//! weight_bits = 16
//! activation_bits = 16
//! speedup = 1.0
//! mac_energy_pj = 1.666
//!
//! # for cost_model = "bitfusion_sim" instead:
//! [bitfusion_sim]
//! config = "bitfusion/bf_e.toml"  # preset name ("bf_e", "conf") or path relative to this file
//! batch = 1
//!
//! # for cost_model = "table" instead (a measured table, see `crate::measured`):
//! [table]
//! file = "example.csv"            # path relative to this file
//! ```

use crate::analytic::{AnalyticModel, PrecisionCost};
use crate::bitfusion::{BitFusionConfig, MAX_BATCH, MAX_BITS};
use crate::cost::SpeedupMode;
use crate::error::HwError;
use crate::measured::{parse_table, MeasuredTable, Widths};
use crate::toml_io;
use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlatformFile {
    pub name: String,
    pub description: Option<String>,
    pub weight_bits: Vec<u32>,
    pub activation_bits: Vec<u32>,
    pub shared_width: bool,
    pub memory_limit_mb: f64,
    pub speedup_objective: SpeedupMode,
    pub cost_model: CostModelKind,
    pub analytic: Option<AnalyticSection>,
    pub bitfusion_sim: Option<SimSection>,
    pub table: Option<TableSection>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CostModelKind {
    Analytic,
    BitfusionSim,
    Table,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnalyticSection {
    pub speedup_divisor: Option<f64>,
    pub memory_energy_pj_per_bit: Option<f64>,
    pub precision: Vec<PrecisionRow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PrecisionRow {
    pub weight_bits: u32,
    pub activation_bits: u32,
    pub speedup: f64,
    pub mac_energy_pj: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SimSection {
    pub config: String,
    pub batch: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TableSection {
    pub file: String,
}

/// The validated cost model of a platform, before it is wrapped for evaluation.
pub(crate) enum ValidatedModel {
    Analytic(AnalyticModel),
    BitFusionSim { config: BitFusionConfig, batch: u64 },
    Table(MeasuredTable),
}

impl PlatformFile {
    /// Checks values; `file` labels errors, `base_dir` resolves a relative Bit Fusion config path.
    pub fn validate(&self, file: &str, base_dir: &Path) -> Result<ValidatedModel, HwError> {
        if self.name.trim().is_empty() {
            return Err(HwError::invalid(file, "name", "must not be empty"));
        }
        check_widths(file, "weight_bits", &self.weight_bits)?;
        check_widths(file, "activation_bits", &self.activation_bits)?;
        if self.shared_width && !same_set(&self.weight_bits, &self.activation_bits) {
            return Err(HwError::invalid(
                file,
                "activation_bits",
                "with shared_width = true it must list the same widths as weight_bits",
            ));
        }
        if !(self.memory_limit_mb.is_finite() && self.memory_limit_mb > 0.0) {
            return Err(HwError::invalid(
                file,
                "memory_limit_mb",
                format!("{} is not a positive number", self.memory_limit_mb),
            ));
        }
        self.check_sections(file)?;
        match self.cost_model {
            CostModelKind::Analytic => {
                let section = self.analytic.as_ref().expect("checked by check_sections");
                self.validate_analytic(file, section)
                    .map(ValidatedModel::Analytic)
            }
            CostModelKind::BitfusionSim => {
                let section = self
                    .bitfusion_sim
                    .as_ref()
                    .expect("checked by check_sections");
                validate_sim(file, base_dir, section)
            }
            CostModelKind::Table => {
                let section = self.table.as_ref().expect("checked by check_sections");
                self.load_table(file, base_dir, section)
                    .map(ValidatedModel::Table)
            }
        }
    }

    /// Exactly the section of the chosen cost model is given.
    fn check_sections(&self, file: &str) -> Result<(), HwError> {
        let chosen = match self.cost_model {
            CostModelKind::Analytic => "analytic",
            CostModelKind::BitfusionSim => "bitfusion_sim",
            CostModelKind::Table => "table",
        };
        let sections = [
            ("analytic", self.analytic.is_some()),
            ("bitfusion_sim", self.bitfusion_sim.is_some()),
            ("table", self.table.is_some()),
        ];
        for (name, present) in sections {
            if name == chosen && !present {
                return Err(HwError::invalid(
                    file,
                    name,
                    format!("missing; cost_model = \"{chosen}\" needs it"),
                ));
            }
            if name != chosen && present {
                return Err(HwError::invalid(
                    file,
                    name,
                    format!("given, but cost_model is \"{chosen}\""),
                ));
            }
        }
        Ok(())
    }

    /// Reads the measured table named by `[table] file`, relative to the platform file's folder.
    fn load_table(
        &self,
        file: &str,
        base_dir: &Path,
        section: &TableSection,
    ) -> Result<MeasuredTable, HwError> {
        if section.file.trim().is_empty() {
            return Err(HwError::invalid(file, "table.file", "must not be empty"));
        }
        let path = base_dir.join(&section.file);
        let text = toml_io::read(&path)?;
        let widths = Widths {
            weight: &self.weight_bits,
            activation: &self.activation_bits,
            shared: self.shared_width,
        };
        parse_table(&text, &path.display().to_string(), &widths)
    }

    fn validate_analytic(
        &self,
        file: &str,
        section: &AnalyticSection,
    ) -> Result<AnalyticModel, HwError> {
        let divisor = section.speedup_divisor.unwrap_or(1.0);
        if !(divisor.is_finite() && divisor > 0.0) {
            return Err(HwError::invalid(
                file,
                "analytic.speedup_divisor",
                format!("{divisor} is not a positive number"),
            ));
        }
        if let Some(e) = section.memory_energy_pj_per_bit {
            if !(e.is_finite() && e >= 0.0) {
                return Err(HwError::invalid(
                    file,
                    "analytic.memory_energy_pj_per_bit",
                    format!("{e} is not a non-negative number"),
                ));
            }
        }
        let mut table = Vec::with_capacity(section.precision.len());
        for (i, row) in section.precision.iter().enumerate() {
            let key = |field: &str| format!("analytic.precision[{i}].{field}");
            if !self.weight_bits.contains(&row.weight_bits) {
                return Err(HwError::invalid(
                    file,
                    &key("weight_bits"),
                    format!("{} is not in weight_bits", row.weight_bits),
                ));
            }
            if !self.activation_bits.contains(&row.activation_bits) {
                return Err(HwError::invalid(
                    file,
                    &key("activation_bits"),
                    format!("{} is not in activation_bits", row.activation_bits),
                ));
            }
            if self.shared_width && row.weight_bits != row.activation_bits {
                return Err(HwError::invalid(
                    file,
                    &key("activation_bits"),
                    "must equal weight_bits when shared_width = true",
                ));
            }
            if !(row.speedup.is_finite() && row.speedup > 0.0) {
                return Err(HwError::invalid(
                    file,
                    &key("speedup"),
                    format!("{} is not a positive number", row.speedup),
                ));
            }
            if let Some(e) = row.mac_energy_pj {
                if !(e.is_finite() && e >= 0.0) {
                    return Err(HwError::invalid(
                        file,
                        &key("mac_energy_pj"),
                        format!("{e} is not a non-negative number"),
                    ));
                }
            }
            if table.iter().any(|r: &PrecisionCost| {
                r.weight_bits == row.weight_bits && r.activation_bits == row.activation_bits
            }) {
                return Err(HwError::invalid(
                    file,
                    &format!("analytic.precision[{i}]"),
                    format!(
                        "weights {} / activations {} are listed twice",
                        row.weight_bits, row.activation_bits
                    ),
                ));
            }
            table.push(PrecisionCost {
                weight_bits: row.weight_bits,
                activation_bits: row.activation_bits,
                speedup: row.speedup,
                mac_energy_pj: row.mac_energy_pj,
            });
        }
        for (w, a) in self.allowed_pairs() {
            if !table
                .iter()
                .any(|r| r.weight_bits == w && r.activation_bits == a)
            {
                return Err(HwError::invalid(
                    file,
                    "analytic.precision",
                    format!("no row for weights {w} / activations {a}, which the platform allows"),
                ));
            }
        }
        let with_energy = table.iter().filter(|r| r.mac_energy_pj.is_some()).count();
        if with_energy != 0 && with_energy != table.len() {
            return Err(HwError::invalid(
                file,
                "analytic.precision",
                "mac_energy_pj must be given for every row or for none",
            ));
        }
        let has_energy = with_energy != 0;
        if has_energy != section.memory_energy_pj_per_bit.is_some() {
            return Err(HwError::invalid(
                file,
                "analytic.memory_energy_pj_per_bit",
                "an energy model needs both memory_energy_pj_per_bit and mac_energy_pj per row",
            ));
        }
        Ok(AnalyticModel::new(
            table,
            section.memory_energy_pj_per_bit,
            divisor,
        ))
    }

    /// Every (weight, activation) pair the platform runs.
    pub fn allowed_pairs(&self) -> Vec<(u32, u32)> {
        allowed_pairs(&self.weight_bits, &self.activation_bits, self.shared_width)
    }
}

pub(crate) fn allowed_pairs(weights: &[u32], activations: &[u32], shared: bool) -> Vec<(u32, u32)> {
    if shared {
        weights.iter().map(|&w| (w, w)).collect()
    } else {
        weights
            .iter()
            .flat_map(|&w| activations.iter().map(move |&a| (w, a)))
            .collect()
    }
}

fn validate_sim(
    file: &str,
    base_dir: &Path,
    section: &SimSection,
) -> Result<ValidatedModel, HwError> {
    if !(1..=MAX_BATCH).contains(&section.batch) {
        return Err(HwError::invalid(
            file,
            "bitfusion_sim.batch",
            format!("{} is not in 1..={MAX_BATCH}", section.batch),
        ));
    }
    if section.config.trim().is_empty() {
        return Err(HwError::invalid(
            file,
            "bitfusion_sim.config",
            "must not be empty",
        ));
    }
    let config = match BitFusionConfig::preset(&section.config) {
        Some(preset) => preset,
        None => BitFusionConfig::from_toml_file(base_dir.join(&section.config))?,
    };
    Ok(ValidatedModel::BitFusionSim {
        config,
        batch: section.batch,
    })
}

fn check_widths(file: &str, key: &str, widths: &[u32]) -> Result<(), HwError> {
    if widths.is_empty() {
        return Err(HwError::invalid(file, key, "must list at least one width"));
    }
    for (i, &w) in widths.iter().enumerate() {
        if !(1..=MAX_BITS).contains(&w) {
            return Err(HwError::invalid(
                file,
                key,
                format!("{w} is not in 1..={MAX_BITS}"),
            ));
        }
        if widths[..i].contains(&w) {
            return Err(HwError::invalid(file, key, format!("{w} is listed twice")));
        }
    }
    Ok(())
}

fn same_set(a: &[u32], b: &[u32]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}
