//! One layer's result in the column layout of the reference simulator's CSV
//! (`shared/spec/reference/bitfusion_fc.csv`), so that our output can be compared line by line;
//! the `mohaq hw bitfusion-fc --json` interface prints exactly this object.

use super::search::LayerReport;
use serde::Serialize;

/// A reference CSV row; field names and order are the CSV header's.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReferenceRow {
    pub config: String,
    #[serde(rename = "Ni")]
    pub ni: u64,
    #[serde(rename = "No")]
    pub no: u64,
    #[serde(rename = "B")]
    pub b: u64,
    pub abits: u32,
    pub wbits: u32,
    pub cycles: u64,
    pub stall: u64,
    pub wbuf_rd: u64,
    pub wbuf_wr: u64,
    pub ibuf_rd: u64,
    pub ibuf_wr: u64,
    pub obuf_rd: u64,
    pub obuf_wr: u64,
    pub dram_rd: u64,
    pub dram_wr: u64,
    #[serde(rename = "core_nJ")]
    pub core_nj: f64,
    #[serde(rename = "sram_nJ")]
    pub sram_nj: f64,
    #[serde(rename = "dram_nJ")]
    pub dram_nj: f64,
    #[serde(rename = "energy_nJ")]
    pub energy_nj: f64,
    /// Loop order, outermost first, e.g. `OC/oc>IC/ic>B/b>OH/oh>OW/ow`.
    pub order: String,
    pub tile_b: u64,
    pub tile_ic: u64,
    pub tile_oc: u64,
}

impl ReferenceRow {
    /// The row of `report` computed on the configuration named `config`.
    pub fn new(config: &str, report: &LayerReport) -> Self {
        let (l, c, e) = (&report.layer, &report.counters, &report.energy);
        ReferenceRow {
            config: config.to_string(),
            ni: l.inputs,
            no: l.outputs,
            b: l.batch,
            abits: l.activation_bits,
            wbits: l.weight_bits,
            cycles: c.cycles,
            stall: c.stall,
            wbuf_rd: c.wbuf_rd,
            wbuf_wr: c.wbuf_wr,
            ibuf_rd: c.ibuf_rd,
            ibuf_wr: c.ibuf_wr,
            obuf_rd: c.obuf_rd,
            obuf_wr: c.obuf_wr,
            dram_rd: c.dram_rd,
            dram_wr: c.dram_wr,
            core_nj: e.core_nj,
            sram_nj: e.sram_nj,
            dram_nj: e.dram_nj,
            energy_nj: e.total_nj,
            order: report.order.to_string(),
            tile_b: report.tiling.b,
            tile_ic: report.tiling.ic,
            tile_oc: report.tiling.oc,
        }
    }

    /// The CSV header of the reference file.
    pub const COLUMNS: [&'static str; 24] = [
        "config",
        "Ni",
        "No",
        "B",
        "abits",
        "wbits",
        "cycles",
        "stall",
        "wbuf_rd",
        "wbuf_wr",
        "ibuf_rd",
        "ibuf_wr",
        "obuf_rd",
        "obuf_wr",
        "dram_rd",
        "dram_wr",
        "core_nJ",
        "sram_nJ",
        "dram_nJ",
        "energy_nJ",
        "order",
        "tile_b",
        "tile_ic",
        "tile_oc",
    ];
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bitfusion::{search_layer, BitFusionConfig, FcLayer};

    #[test]
    fn json_keys_are_the_csv_columns_in_order() {
        let report = search_layer(
            &BitFusionConfig::bf_e(),
            FcLayer::new(64, 64, 1, 2, 2).unwrap(),
        )
        .unwrap();
        let json = serde_json::to_string(&ReferenceRow::new("bf_e", &report)).unwrap();
        let mut last = 0;
        for column in ReferenceRow::COLUMNS {
            let at = json
                .find(&format!("\"{column}\":"))
                .unwrap_or_else(|| panic!("{column} missing in {json}"));
            assert!(at >= last, "{column} out of order");
            last = at;
        }
    }
}
