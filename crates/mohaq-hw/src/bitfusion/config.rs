//! A Bit Fusion accelerator configuration (HARDWARE.md §4.1, §4.4): array size, precision range,
//! buffer sizes, DRAM width and per-access energies. Loaded from TOML so that users can describe
//! their own design; the two configurations of the reference rows are also built in.

use crate::error::HwError;
use crate::toml_io;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Energy constants in nJ (per cycle for the core, per bit for buffers and DRAM).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnergyNj {
    /// Whole array, per compute cycle; independent of the precision in use.
    pub core_per_cycle: f64,
    pub wbuf_read_per_bit: f64,
    pub wbuf_write_per_bit: f64,
    pub ibuf_read_per_bit: f64,
    pub ibuf_write_per_bit: f64,
    pub obuf_read_per_bit: f64,
    pub obuf_write_per_bit: f64,
    pub dram_per_bit: f64,
}

/// A Bit Fusion configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BitFusionConfig {
    /// Name used in reports (`bf_e`, `conf`).
    pub name: String,
    /// N: array rows, the reduction (input) dimension.
    pub rows: u64,
    /// M: array columns, the output dimension.
    pub columns: u64,
    /// Widest operand a Fusion Unit handles in one pass.
    pub pmax: u32,
    /// Narrowest operand (one BitBrick).
    pub pmin: u32,
    pub wbuf_bytes: u64,
    pub ibuf_bytes: u64,
    pub obuf_bytes: u64,
    /// DRAM interface width in bits per cycle.
    pub dram_bits_per_cycle: u64,
    pub frequency_mhz: f64,
    pub energy_nj: EnergyNj,
}

impl BitFusionConfig {
    /// The paper's Eyeriss-comparable design (16×32 Fusion Units, 45 nm).
    pub fn bf_e() -> Self {
        BitFusionConfig {
            name: "bf_e".into(),
            rows: 16,
            columns: 32,
            pmax: 8,
            pmin: 2,
            wbuf_bytes: 64 * 1024,
            ibuf_bytes: 32 * 1024,
            obuf_bytes: 16 * 1024,
            dram_bits_per_cycle: 192,
            frequency_mhz: 500.0,
            energy_nj: EnergyNj {
                core_per_cycle: 0.235104,
                wbuf_read_per_bit: 2.136565625e-05,
                wbuf_write_per_bit: 2.891615625e-05,
                ibuf_read_per_bit: 5.9474375e-05,
                ibuf_write_per_bit: 1.137040625e-04,
                obuf_read_per_bit: 3.31553125e-05,
                obuf_write_per_bit: 7.30840625e-05,
                dram_per_bit: 0.015,
            },
        }
    }

    /// The second configuration of the reference simulator (8×8 Fusion Units, big WBUF).
    pub fn conf() -> Self {
        BitFusionConfig {
            name: "conf".into(),
            rows: 8,
            columns: 8,
            pmax: 8,
            pmin: 2,
            wbuf_bytes: 256 * 1024,
            ibuf_bytes: 64 * 1024,
            obuf_bytes: 16 * 1024,
            dram_bits_per_cycle: 128,
            frequency_mhz: 500.0,
            energy_nj: EnergyNj {
                core_per_cycle: 0.029388,
                wbuf_read_per_bit: 1.071728125e-04,
                wbuf_write_per_bit: 1.346909375e-04,
                ibuf_read_per_bit: 1.997384375e-04,
                ibuf_write_per_bit: 1.7383375e-04,
                obuf_read_per_bit: 6.82525e-05,
                obuf_write_per_bit: 1.335490625e-04,
                dram_per_bit: 0.015,
            },
        }
    }

    /// A built-in configuration by name (`bf_e` or `conf`).
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "bf_e" => Some(Self::bf_e()),
            "conf" => Some(Self::conf()),
            _ => None,
        }
    }

    /// Loads and validates a configuration file.
    pub fn from_toml_file(path: impl AsRef<Path>) -> Result<Self, HwError> {
        let path = path.as_ref();
        let text = toml_io::read(path)?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and validates configuration text (errors name `<inline>` as the file).
    pub fn from_toml_str(text: &str) -> Result<Self, HwError> {
        Self::parse(text, "<inline>")
    }

    pub(crate) fn parse(text: &str, file: &str) -> Result<Self, HwError> {
        let config: BitFusionConfig = toml_io::deserialize(text, file)?;
        config.validate(file)?;
        Ok(config)
    }

    /// Checks ranges that the simulation relies on (no zero divisors, no overflow of counters).
    pub fn validate(&self, file: &str) -> Result<(), HwError> {
        if self.name.trim().is_empty() {
            return Err(HwError::invalid(file, "name", "must not be empty"));
        }
        for (key, value) in [
            ("rows", self.rows),
            ("columns", self.columns),
            ("dram_bits_per_cycle", self.dram_bits_per_cycle),
        ] {
            if !(1..=65_536).contains(&value) {
                return Err(HwError::invalid(
                    file,
                    key,
                    format!("{value} is not in 1..=65536"),
                ));
            }
        }
        for (key, value) in [
            ("wbuf_bytes", self.wbuf_bytes),
            ("ibuf_bytes", self.ibuf_bytes),
            ("obuf_bytes", self.obuf_bytes),
        ] {
            if !(2..=(1 << 34)).contains(&value) {
                return Err(HwError::invalid(
                    file,
                    key,
                    format!("{value} is not in 2..=2^34"),
                ));
            }
        }
        if !(1..=32).contains(&self.pmin) {
            return Err(HwError::invalid(
                file,
                "pmin",
                format!("{} is not in 1..=32", self.pmin),
            ));
        }
        if self.pmax < self.pmin || self.pmax > 32 {
            return Err(HwError::invalid(
                file,
                "pmax",
                format!("{} must be in pmin ({})..=32", self.pmax, self.pmin),
            ));
        }
        if !(self.frequency_mhz.is_finite() && self.frequency_mhz > 0.0) {
            return Err(HwError::invalid(
                file,
                "frequency_mhz",
                "must be a positive number",
            ));
        }
        let e = &self.energy_nj;
        for (key, value) in [
            ("energy_nj.core_per_cycle", e.core_per_cycle),
            ("energy_nj.wbuf_read_per_bit", e.wbuf_read_per_bit),
            ("energy_nj.wbuf_write_per_bit", e.wbuf_write_per_bit),
            ("energy_nj.ibuf_read_per_bit", e.ibuf_read_per_bit),
            ("energy_nj.ibuf_write_per_bit", e.ibuf_write_per_bit),
            ("energy_nj.obuf_read_per_bit", e.obuf_read_per_bit),
            ("energy_nj.obuf_write_per_bit", e.obuf_write_per_bit),
            ("energy_nj.dram_per_bit", e.dram_per_bit),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(HwError::invalid(
                    file,
                    key,
                    format!("{value} is not a non-negative number"),
                ));
            }
        }
        Ok(())
    }
}
