//! A cost model whose data the user measured or simulated: a CSV table of per-layer latency (and
//! optionally energy) at each (weight bits, activation bits) pair, for hardware mohaq has no model
//! of.
//!
//! Lookup rules, per workload layer and pair (the only rules; there is no interpolation):
//! 1. rows whose `layer` is the layer's name (`L0`, `FC`, …) are used if there are any;
//! 2. otherwise rows whose `layer` is the layer's weight shape `ROWSxCOLS` (rows = outputs,
//!    cols = inputs, as PyTorch's `weight.shape`), if the workload knows the layer's shape;
//! 3. otherwise, or when the chosen rows lack the pair, evaluation fails with an error naming the
//!    layer, the widths and the file.
//!
//! A row that matches no layer of the workload is an error too (naming its line), so a typo in a
//! layer name cannot silently leave a layer costed by its shape.
//!
//! Speedup of a layer = its latency at the baseline pair ÷ its latency at the candidate pair; the
//! platform's physical speedup = Σ baseline latencies ÷ Σ candidate latencies (the layers run one
//! after another), its paper-mode speedup the MAC-weighted mean of the per-layer speedups. Energy
//! per frame = Σ of the layers' energies.

mod csv;

use crate::error::HwError;
use crate::workload::{MatrixLayer, Workload};
use serde::Serialize;

pub(crate) use csv::{parse_table, Widths};

/// What a row is measured for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum LayerKey {
    /// A layer name of the workload.
    Name(String),
    /// A weight matrix of `rows` outputs × `cols` inputs.
    Shape { rows: u64, cols: u64 },
}

impl LayerKey {
    fn matches(&self, layer: &MatrixLayer) -> bool {
        match self {
            LayerKey::Name(name) => *name == layer.name,
            LayerKey::Shape { rows, cols } => layer.shape == Some((*cols, *rows)),
        }
    }
}

impl std::fmt::Display for LayerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LayerKey::Name(name) => write!(f, "`{name}`"),
            LayerKey::Shape { rows, cols } => write!(f, "shape {rows}x{cols}"),
        }
    }
}

/// One measurement.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MeasuredRow {
    /// 1-based line in the CSV file.
    pub line: usize,
    pub key: LayerKey,
    pub weight_bits: u32,
    pub activation_bits: u32,
    /// Latency of the layer for one frame, µs.
    pub latency_us: f64,
    /// Energy of the layer for one frame, µJ (when the file has an `energy_uj` column).
    pub energy_uj: Option<f64>,
}

/// A validated measured table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MeasuredTable {
    file: String,
    rows: Vec<MeasuredRow>,
    has_energy: bool,
}

impl MeasuredTable {
    pub(crate) fn new(file: String, rows: Vec<MeasuredRow>, has_energy: bool) -> Self {
        MeasuredTable {
            file,
            rows,
            has_energy,
        }
    }

    /// The CSV file the table was read from (as shown in errors).
    pub fn file(&self) -> &str {
        &self.file
    }
    pub fn rows(&self) -> &[MeasuredRow] {
        &self.rows
    }
    /// Whether every row has an energy.
    pub fn has_energy(&self) -> bool {
        self.has_energy
    }

    /// Checks that every row names a layer of `workload` and that every layer has a row for
    /// every pair in `pairs` under the lookup rules.
    pub fn check_workload(&self, workload: &Workload, pairs: &[(u32, u32)]) -> Result<(), HwError> {
        for row in &self.rows {
            if !workload.layers().iter().any(|l| row.key.matches(l)) {
                let names: Vec<&str> = workload.layers().iter().map(|l| l.name.as_str()).collect();
                return Err(HwError::TableRow {
                    file: self.file.clone(),
                    line: row.line,
                    reason: format!(
                        "layer {} is not a layer of workload `{}` (its layers: {}{})",
                        row.key,
                        workload.name(),
                        names.join(", "),
                        if workload.layers().iter().any(|l| l.shape.is_some()) {
                            ""
                        } else {
                            "; it has no shapes, so rows must name layers"
                        }
                    ),
                });
            }
        }
        for layer in workload.layers() {
            for &(w, a) in pairs {
                self.lookup(layer, w, a)?;
            }
        }
        Ok(())
    }

    /// The row that costs `layer` at weights `w` / activations `a` (module rules 1–3).
    pub fn lookup(&self, layer: &MatrixLayer, w: u32, a: u32) -> Result<&MeasuredRow, HwError> {
        let by_name = |r: &&MeasuredRow| matches!(&r.key, LayerKey::Name(n) if *n == layer.name);
        let by_shape =
            |r: &&MeasuredRow| matches!(r.key, LayerKey::Shape { .. }) && r.key.matches(layer);
        let named = self.rows.iter().any(|r| by_name(&r));
        let candidates: Vec<&MeasuredRow> = if named {
            self.rows.iter().filter(by_name).collect()
        } else {
            self.rows.iter().filter(by_shape).collect()
        };
        let shape = layer
            .shape
            .map_or("no shape".to_string(), |(i, o)| format!("shape {o}x{i}"));
        let missing = |reason: String| HwError::MissingMeasurement {
            file: self.file.clone(),
            layer: layer.name.clone(),
            weight_bits: w,
            activation_bits: a,
            reason,
        };
        if candidates.is_empty() {
            return Err(missing(format!("no row names the layer or its {shape}")));
        }
        candidates
            .into_iter()
            .find(|r| r.weight_bits == w && r.activation_bits == a)
            .ok_or_else(|| {
                missing(format!(
                    "the rows for {} have no such pair",
                    if named {
                        format!("`{}`", layer.name)
                    } else {
                        shape.clone()
                    }
                ))
            })
    }
}
