//! E4: the hardware models on the paper's workload against the paper's values (HARDWARE §1-3),
//! and the cycle-level Bit Fusion model against the reference simulator's rows.

use std::path::Path;

use mohaq_hw::bitfusion::{BitFusionConfig, BitFusionSim, FcLayer, ReferenceRow};
use mohaq_hw::{MatrixLayer, Platform, Workload};
use mohaq_sru::rnn::Architecture;
use serde::Serialize;

use crate::paper;
use mohaq_beacon::error::{ModelFailure, RunError};
use mohaq_beacon::genes::LayerBits;
use mohaq_beacon::model::{fp32_size_mb, size_mb};

/// The hardware workload of a model config file of any kind (SRU, LSTM, GRU): its matrix layers
/// in layer order with their real counts and `(inputs, outputs)` shapes, so a measured table
/// (`cost_model = "table"`) can cost them by name or by shape and the Bit Fusion simulation can
/// run them. The SRU's elementwise parameters (16-bit `v` vectors) count in the size.
pub fn model_workload(path: &Path) -> Result<Workload, RunError> {
    let architecture = Architecture::load(path)
        .map_err(|e| ModelFailure::new(format!("workload of {}", path.display()), e))?;
    let (name, layers, elementwise) = match &architecture {
        Architecture::Sru(c) => (
            c.name.clone(),
            c.matrix_layers()
                .into_iter()
                .map(|l| (l.name, l.in_dim, l.out_dim))
                .collect::<Vec<_>>(),
            c.elementwise_params(),
        ),
        Architecture::Rnn(c) => (
            c.name.clone(),
            c.matrix_layers()
                .into_iter()
                .map(|l| (l.name, l.in_dim, l.out_dim))
                .collect(),
            c.elementwise_params(),
        ),
    };
    let layers = layers
        .into_iter()
        .map(|(n, i, o)| MatrixLayer::fully_connected(n, i as u64, o as u64))
        .collect();
    Ok(Workload::new(name, layers)?.with_elementwise_params(elementwise as u64))
}

/// One uniform width on the paper workload: our figures with the paper's beside them.
#[derive(Debug, Clone, Serialize)]
pub struct UniformRow {
    pub bits: u32,
    pub size_mb: f64,
    pub paper_size_mb: Option<f64>,
    pub compression: f64,
    pub silago_speedup: Option<f64>,
    pub silago_speedup_physical: Option<f64>,
    pub paper_silago_speedup: Option<f64>,
    pub silago_energy_uj: Option<f64>,
    pub paper_silago_energy_uj: Option<f64>,
    pub bitfusion_speedup: f64,
    pub bitfusion_speedup_physical: f64,
    pub paper_bitfusion_speedup: Option<f64>,
    /// Cycle-level Bit Fusion (bf_e, batch 1): cycle ratio against 16 bits.
    pub bitfusion_sim_speedup: Option<f64>,
}

/// Outcome of comparing our simulation with the reference CSV.
#[derive(Debug, Clone, Serialize)]
pub struct ReferenceCheck {
    pub rows: usize,
    /// Every counter and the tiling equal, energy within 1e-9 relative.
    pub exact: usize,
    /// Cycles and energy equal but another tiling of equal cost chosen (allowed by HARDWARE §4.5).
    pub tie: usize,
    pub max_energy_rel_error: f64,
    pub mismatches: Vec<String>,
    /// What differs in the tie rows.
    pub tie_details: Vec<String>,
}

/// Everything E4 reports.
#[derive(Debug, Clone, Serialize)]
pub struct HardwareReport {
    pub fp32_size_mb: f64,
    pub uniform: Vec<UniformRow>,
    pub reference: ReferenceCheck,
}

fn lookup(table: &[(u32, f64)], bits: u32) -> Option<f64> {
    table.iter().find(|(b, _)| *b == bits).map(|(_, v)| *v)
}

/// Computes E4 from the shipped platform files and the reference CSV.
pub fn hardware_report(platforms: &Path, reference_csv: &Path) -> Result<HardwareReport, RunError> {
    let workload = Workload::paper_sru();
    let silago = Platform::from_toml_file(platforms.join("silago.toml"))?;
    let bitfusion = Platform::from_toml_file(platforms.join("bitfusion.toml"))?;
    let bf_sim = Platform::from_toml_file(platforms.join("bitfusion-bf_e.toml"))?;
    let mut uniform = Vec::new();
    for bits in [16u32, 8, 4, 2] {
        let pairs = vec![(bits, bits); workload.layers().len()];
        let size = size_mb(&workload, &LayerBits::uniform(bits));
        let s = silago.evaluate(&workload, &pairs).ok();
        let bf = bitfusion.evaluate(&workload, &pairs)?;
        let sim = bf_sim.evaluate(&workload, &pairs).ok();
        uniform.push(UniformRow {
            bits,
            size_mb: size,
            paper_size_mb: lookup(&paper::UNIFORM_SIZES_MB, bits),
            compression: fp32_size_mb(&workload) / size,
            silago_speedup: s.as_ref().map(|c| c.speedup_paper),
            silago_speedup_physical: s.as_ref().map(|c| c.speedup_physical),
            paper_silago_speedup: lookup(&paper::SILAGO_SPEEDUP, bits),
            silago_energy_uj: s.as_ref().and_then(|c| c.energy_uj_per_frame),
            paper_silago_energy_uj: lookup(&paper::SILAGO_ENERGY_UJ, bits),
            bitfusion_speedup: bf.speedup_paper,
            bitfusion_speedup_physical: bf.speedup_physical,
            paper_bitfusion_speedup: lookup(&paper::BITFUSION_SPEEDUP, bits),
            bitfusion_sim_speedup: sim.map(|c| c.speedup_physical),
        });
    }
    Ok(HardwareReport {
        fp32_size_mb: fp32_size_mb(&workload),
        uniform,
        reference: check_reference(reference_csv)?,
    })
}

/// Simulates every row of the reference CSV and compares.
pub fn check_reference(path: &Path) -> Result<ReferenceCheck, RunError> {
    let text = std::fs::read_to_string(path).map_err(|source| RunError::Io {
        path: path.to_path_buf(),
        action: "reading the Bit Fusion reference rows",
        source,
    })?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let bad = |line: usize, message: String| RunError::RunDir {
        path: path.to_path_buf(),
        message: format!("line {line}: {message}"),
    };
    let mut check = ReferenceCheck {
        rows: 0,
        exact: 0,
        tie: 0,
        max_energy_rel_error: 0.0,
        mismatches: Vec::new(),
        tie_details: Vec::new(),
    };
    let mut sims: Vec<(String, BitFusionSim)> = Vec::new();
    for (n, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let line_no = n + 2;
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != header.len() {
            return Err(bad(
                line_no,
                format!("{} fields, header has {}", fields.len(), header.len()),
            ));
        }
        let get = |name: &str| -> Result<&str, RunError> {
            header
                .iter()
                .position(|h| *h == name)
                .map(|i| fields[i])
                .ok_or_else(|| bad(line_no, format!("no column `{name}`")))
        };
        let int = |name: &str| -> Result<u64, RunError> {
            get(name)?
                .parse()
                .map_err(|e| bad(line_no, format!("column `{name}`: {e}")))
        };
        let real = |name: &str| -> Result<f64, RunError> {
            get(name)?
                .parse()
                .map_err(|e| bad(line_no, format!("column `{name}`: {e}")))
        };
        let config_name = get("config")?.to_string();
        if !sims.iter().any(|(n, _)| *n == config_name) {
            let config = BitFusionConfig::preset(&config_name)
                .ok_or_else(|| bad(line_no, format!("unknown configuration `{config_name}`")))?;
            sims.push((config_name.clone(), BitFusionSim::new(config)));
        }
        let sim = &sims.iter().find(|(n, _)| *n == config_name).map(|(_, s)| s);
        let Some(sim) = sim else { continue };
        let layer = FcLayer::new(
            int("Ni")?,
            int("No")?,
            int("B")?,
            int("abits")? as u32,
            int("wbits")? as u32,
        )?;
        let ours = ReferenceRow::new(&config_name, &sim.simulate(layer)?);
        let counters = [
            ("cycles", ours.cycles),
            ("stall", ours.stall),
            ("wbuf_rd", ours.wbuf_rd),
            ("wbuf_wr", ours.wbuf_wr),
            ("ibuf_rd", ours.ibuf_rd),
            ("ibuf_wr", ours.ibuf_wr),
            ("obuf_rd", ours.obuf_rd),
            ("obuf_wr", ours.obuf_wr),
            ("dram_rd", ours.dram_rd),
            ("dram_wr", ours.dram_wr),
        ];
        let mut differing = Vec::new();
        for (name, value) in counters {
            if int(name)? != value {
                differing.push(name);
            }
        }
        let reference_energy = real("energy_nJ")?;
        let rel = (ours.energy_nj - reference_energy).abs() / reference_energy.abs().max(1e-300);
        check.max_energy_rel_error = check.max_energy_rel_error.max(rel);
        let tiling_equal = get("order")? == ours.order
            && int("tile_b")? == ours.tile_b
            && int("tile_ic")? == ours.tile_ic
            && int("tile_oc")? == ours.tile_oc;
        check.rows += 1;
        let energy_ok = rel <= 1e-9;
        let cycles_ok = !differing.contains(&"cycles");
        if differing.is_empty() && energy_ok && tiling_equal {
            check.exact += 1;
        } else if cycles_ok && energy_ok && !tiling_equal {
            check.tie += 1;
            check.tie_details.push(format!(
                "line {line_no}: ours {} b{} ic{} oc{} vs reference {} b{} ic{} oc{}; counters differing: {:?}",
                ours.order, ours.tile_b, ours.tile_ic, ours.tile_oc,
                get("order")?, int("tile_b")?, int("tile_ic")?, int("tile_oc")?, differing
            ));
        } else {
            check.mismatches.push(format!(
                "line {line_no} ({config_name} {}x{} B{} a{} w{}): differs in {:?}, energy rel. error {rel:.2e}",
                ours.ni, ours.no, ours.b, ours.abits, ours.wbits, differing
            ));
        }
    }
    Ok(check)
}
