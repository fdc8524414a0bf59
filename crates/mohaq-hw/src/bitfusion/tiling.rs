//! The cost of one candidate schedule — a tiling plus a loop order — of a fully connected layer
//! (HARDWARE.md §4.3): buffer feasibility, reuse across the tile loops, DRAM and buffer traffic,
//! the dataflow proxy for on-chip reads, and cycles with memory stalls.
//!
//! A fully connected layer is a convolution with kernel K = 1 and output size O = 1, so the OW and
//! OH loops always have one trip of size 1; they are kept because they appear in the loop orders
//! the reference reports.

use super::config::BitFusionConfig;
use super::fusion::Fusion;
use super::layer::FcLayer;
use serde::Serialize;
use std::fmt;

/// Bits of an output partial sum in OBUF and DRAM.
pub const PARTIAL_SUM_BITS: u64 = 32;

/// One of the five tiled loops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum LoopDim {
    B,
    OW,
    OH,
    IC,
    OC,
}

impl LoopDim {
    /// The reference's canonical loop list, whose permutations are searched.
    pub const ALL: [LoopDim; 5] = [
        LoopDim::B,
        LoopDim::OW,
        LoopDim::OH,
        LoopDim::IC,
        LoopDim::OC,
    ];

    /// The reference's label, e.g. `OC/oc`.
    pub fn label(self) -> &'static str {
        match self {
            LoopDim::B => "B/b",
            LoopDim::OW => "OW/ow",
            LoopDim::OH => "OH/oh",
            LoopDim::IC => "IC/ic",
            LoopDim::OC => "OC/oc",
        }
    }

    pub fn from_label(label: &str) -> Option<Self> {
        LoopDim::ALL.into_iter().find(|d| d.label() == label)
    }

    /// Which data a loop walks over: (weights, activations, outputs). A loop that does not touch
    /// a datum lets the buffer keep it across its trips.
    fn touches(self) -> [bool; 3] {
        match self {
            LoopDim::B | LoopDim::OW | LoopDim::OH => [false, true, true],
            LoopDim::IC => [true, true, false],
            LoopDim::OC => [true, false, true],
        }
    }
}

/// A loop order, outermost loop first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct LoopOrder(pub [LoopDim; 5]);

impl LoopOrder {
    /// Parses the reference's `OC/oc>IC/ic>B/b>OH/oh>OW/ow` form.
    pub fn parse(text: &str) -> Option<Self> {
        let dims: Vec<LoopDim> = text
            .split('>')
            .map(LoopDim::from_label)
            .collect::<Option<_>>()?;
        let dims: [LoopDim; 5] = dims.try_into().ok()?;
        let all_distinct = LoopDim::ALL.iter().all(|d| dims.contains(d));
        all_distinct.then_some(LoopOrder(dims))
    }

    /// All 120 orders, in the lexicographic order of permutations of [`LoopDim::ALL`].
    pub fn all() -> Vec<LoopOrder> {
        let mut out = Vec::with_capacity(120);
        let mut current = Vec::with_capacity(5);
        let mut used = [false; 5];
        permute(&mut current, &mut used, &mut out);
        out
    }
}

fn permute(current: &mut Vec<LoopDim>, used: &mut [bool; 5], out: &mut Vec<LoopOrder>) {
    if current.len() == 5 {
        let mut dims = [LoopDim::B; 5];
        dims.copy_from_slice(current);
        out.push(LoopOrder(dims));
        return;
    }
    for i in 0..5 {
        if !used[i] {
            used[i] = true;
            current.push(LoopDim::ALL[i]);
            permute(current, used, out);
            current.pop();
            used[i] = false;
        }
    }
}

impl fmt::Display for LoopOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let labels: Vec<&str> = self.0.iter().map(|d| d.label()).collect();
        f.write_str(&labels.join(">"))
    }
}

/// Tile sizes of the batch, input-channel and output-channel loops (OW = OH = 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Tiling {
    pub b: u64,
    pub ic: u64,
    pub oc: u64,
}

/// Which on-chip dataflow the proxy picked for the tile's inner loops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Dataflow {
    InputStationary,
    OutputStationary,
    WeightStationary,
}

/// Counters of one schedule; traffic in bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct LayerCounters {
    /// Total cycles: compute plus stalls.
    pub cycles: u64,
    /// Memory stall cycles (including the initial fill and final drain latency).
    pub stall: u64,
    pub wbuf_rd: u64,
    pub wbuf_wr: u64,
    pub ibuf_rd: u64,
    pub ibuf_wr: u64,
    pub obuf_rd: u64,
    pub obuf_wr: u64,
    pub dram_rd: u64,
    pub dram_wr: u64,
    pub dataflow: Dataflow,
}

impl LayerCounters {
    pub fn compute_cycles(&self) -> u64 {
        self.cycles - self.stall
    }
}

/// Energy of one schedule in nJ (HARDWARE.md §4.4).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct EnergyBreakdown {
    pub core_nj: f64,
    pub sram_nj: f64,
    pub dram_nj: f64,
    pub total_nj: f64,
}

impl EnergyBreakdown {
    pub fn of(counters: &LayerCounters, config: &BitFusionConfig) -> Self {
        let e = &config.energy_nj;
        let core_nj = counters.compute_cycles() as f64 * e.core_per_cycle;
        let sram_nj = counters.wbuf_rd as f64 * e.wbuf_read_per_bit
            + counters.wbuf_wr as f64 * e.wbuf_write_per_bit
            + counters.ibuf_rd as f64 * e.ibuf_read_per_bit
            + counters.ibuf_wr as f64 * e.ibuf_write_per_bit
            + counters.obuf_rd as f64 * e.obuf_read_per_bit
            + counters.obuf_wr as f64 * e.obuf_write_per_bit;
        let dram_nj = (counters.dram_rd + counters.dram_wr) as f64 * e.dram_per_bit;
        EnergyBreakdown {
            core_nj,
            sram_nj,
            dram_nj,
            total_nj: core_nj + sram_nj + dram_nj,
        }
    }
}

/// Per-layer quantities that do not depend on the schedule, computed once per search.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LayerContext {
    pub layer: FcLayer,
    pub fusion: Fusion,
    /// N · products per cycle: how many inputs one array column reduces per cycle.
    pub reduction_width: u64,
    pub columns: u64,
    /// Usable (half of double-buffered) capacities in bits: weights, activations, outputs.
    pub capacity: [u64; 3],
    pub dram_bits_per_cycle: u64,
}

impl LayerContext {
    pub fn new(config: &BitFusionConfig, layer: FcLayer) -> Self {
        let fusion = Fusion::new(
            layer.activation_bits,
            layer.weight_bits,
            config.pmin,
            config.pmax,
        );
        LayerContext {
            layer,
            fusion,
            reduction_width: config.rows * fusion.products_per_cycle,
            columns: config.columns,
            capacity: [
                config.wbuf_bytes * 8 / 2,
                config.ibuf_bytes * 8 / 2,
                config.obuf_bytes * 8 / 2,
            ],
            dram_bits_per_cycle: config.dram_bits_per_cycle,
        }
    }

    /// Trip counts of a tiling, indexed like [`LoopDim::ALL`].
    fn trips(&self, t: &Tiling) -> [u64; 5] {
        let l = &self.layer;
        [
            l.batch.div_ceil(t.b),
            1,
            1,
            l.inputs.div_ceil(t.ic),
            l.outputs.div_ceil(t.oc),
        ]
    }

    /// Tile footprints in bits (weights, activations, outputs), or `None` when one overflows its
    /// usable buffer half.
    pub fn footprints(&self, t: &Tiling) -> Option<[u64; 3]> {
        let l = &self.layer;
        let padded_ic = t.ic.div_ceil(self.reduction_width) * self.reduction_width;
        let weights = padded_ic * t.oc * u64::from(l.weight_bits);
        let activations = t.ic * t.b * u64::from(l.activation_bits);
        let outputs = t.oc.div_ceil(self.columns) * self.columns * t.b * PARTIAL_SUM_BITS;
        let fp = [weights, activations, outputs];
        fp.iter()
            .zip(self.capacity)
            .all(|(&f, cap)| f <= cap)
            .then_some(fp)
    }

    /// Counters of one schedule whose tile `footprints` are already known to fit.
    pub fn evaluate(&self, t: &Tiling, footprints: [u64; 3], order: &LoopOrder) -> LayerCounters {
        let l = &self.layer;
        let a = u64::from(l.activation_bits);
        let w = u64::from(l.weight_bits);
        let trips = self.trips(t);
        let tiles: u64 = trips.iter().product();

        // Reuse: walk the loops innermost → outermost, growing what each buffer must hold while
        // it still fits; once it does not, every further loop multiplies the refills.
        let mut fill = footprints;
        let mut max_fill = footprints;
        let mut promotable = [true; 3];
        for dim in order.0.iter().rev() {
            let n = trips[dim_index(*dim)];
            let touches = dim.touches();
            for x in 0..3 {
                if promotable[x] {
                    if touches[x] {
                        fill[x] *= n;
                        if fill[x] > self.capacity[x] {
                            promotable[x] = false;
                        } else {
                            max_fill[x] = fill[x];
                        }
                    }
                } else {
                    fill[x] *= n;
                }
            }
        }
        let [fill_w, fill_a, fill_o] = fill;
        let drain_o = fill_o;

        // On-chip reads: a proxy picks the cheapest of three dataflows for the tile.
        let is_loop = t.oc.div_ceil(self.columns) * self.columns;
        let os_loop = t.ic.div_ceil(self.reduction_width) * self.reduction_width;
        let ws_loop = t.b;
        let psum = PARTIAL_SUM_BITS;
        let e_is = os_loop * ws_loop * (a + is_loop * (w + psum));
        let e_os = is_loop * ws_loop * (psum + os_loop * (a + w));
        let e_ws = os_loop * is_loop * (w + ws_loop * (a + psum));
        let min = e_is.min(e_os).min(e_ws);
        let (dataflow, ibuf_rd, wbuf_rd, obuf_rw) = if e_is == min {
            let p = t.ic * t.b;
            (
                Dataflow::InputStationary,
                tiles * p * a,
                tiles * p * t.oc * w,
                tiles * p * t.oc * psum,
            )
        } else if e_os == min {
            let q = t.oc * t.b;
            (
                Dataflow::OutputStationary,
                tiles * q * t.ic * a,
                tiles * q * t.ic * w,
                tiles * q * psum,
            )
        } else {
            let wt = t.ic * t.oc;
            (
                Dataflow::WeightStationary,
                tiles * wt * t.b * a,
                tiles * wt * w,
                tiles * wt * t.b * psum,
            )
        };

        let dram_rd = fill_w + fill_a + fill_o;
        let dram_wr = drain_o;

        // Cycles: compute, overlapped with the middle DRAM traffic; the first fill and the last
        // drain cannot overlap and add latency.
        let tile_cycles = t.b
            * t.oc.div_ceil(self.columns)
            * t.ic.div_ceil(self.reduction_width)
            * self.fusion.passes;
        let compute = tiles * tile_cycles;
        let initial = max_fill.iter().sum::<u64>();
        let final_drain = max_fill[2];
        let bw = self.dram_bits_per_cycle;
        let latency = initial.div_ceil(bw) + final_drain.div_ceil(bw);
        let middle = dram_rd + dram_wr - initial - final_drain;
        let stall = middle.div_ceil(bw).saturating_sub(compute) + latency;

        LayerCounters {
            cycles: compute + stall,
            stall,
            wbuf_rd,
            wbuf_wr: fill_w,
            ibuf_rd,
            ibuf_wr: fill_a,
            obuf_rd: drain_o + obuf_rw,
            obuf_wr: fill_o + obuf_rw,
            dram_rd,
            dram_wr,
            dataflow,
        }
    }
}

fn dim_index(dim: LoopDim) -> usize {
    match dim {
        LoopDim::B => 0,
        LoopDim::OW => 1,
        LoopDim::OH => 2,
        LoopDim::IC => 3,
        LoopDim::OC => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_check_of_hardware_md() {
        // HARDWARE.md §4.3: 1024×1024, B = 1, a = w = 2 on bf_e, tiling oc = 64, ic = 1024.
        let config = BitFusionConfig::bf_e();
        let layer = FcLayer::new(1024, 1024, 1, 2, 2).unwrap();
        let ctx = LayerContext::new(&config, layer);
        let t = Tiling {
            b: 1,
            ic: 1024,
            oc: 64,
        };
        let fp = ctx.footprints(&t).unwrap();
        assert_eq!(fp, [131_072, 2_048, 2_048]);
        let order = LoopOrder::parse("OC/oc>IC/ic>B/b>OH/oh>OW/ow").unwrap();
        let c = ctx.evaluate(&t, fp, &order);
        assert_eq!(c.compute_cycles(), 128);
        // stall = 10112 + latency (864 + 171)
        assert_eq!(c.stall, 10_112 + 864 + 171);
        assert_eq!(c.cycles, 11_275);
        assert_eq!(c.dram_rd, 131_072 * 16 + 2_048 + 32_768);
    }

    #[test]
    fn orders_are_all_distinct_permutations() {
        let all = LoopOrder::all();
        assert_eq!(all.len(), 120);
        for (i, o) in all.iter().enumerate() {
            assert!(all[..i].iter().all(|p| p != o));
            assert_eq!(LoopOrder::parse(&o.to_string()), Some(*o));
        }
        assert_eq!(all[0].to_string(), "B/b>OW/ow>OH/oh>IC/ic>OC/oc");
        assert!(LoopOrder::parse("B/b>B/b>OH/oh>IC/ic>OC/oc").is_none());
    }
}
