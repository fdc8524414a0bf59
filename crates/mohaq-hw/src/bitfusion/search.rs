//! The schedule search of the reference simulator (HARDWARE.md §4.3): every loop order × every
//! power-of-two tiling, keeping the fewest cycles, ties broken by lower energy, first found wins
//! exact ties.

use super::config::BitFusionConfig;
use super::layer::FcLayer;
use super::tiling::{EnergyBreakdown, LayerContext, LayerCounters, LoopOrder, Tiling};
use crate::error::HwError;
use serde::Serialize;

/// The best schedule of one layer and its cost.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LayerReport {
    pub layer: FcLayer,
    pub counters: LayerCounters,
    pub energy: EnergyBreakdown,
    pub order: LoopOrder,
    pub tiling: Tiling,
}

/// Tile sizes tried for a loop of `bound` iterations: `step·2^k` for k = 0..=ceil(log2(bound/step)),
/// clamped to the bound (duplicates from clamping are kept, as in the reference).
fn tile_sizes(bound: u64, step: u64) -> Vec<u64> {
    let steps = bound.div_ceil(step);
    let count = ceil_log2(steps) + 1;
    (0..count).map(|k| (step << k).min(bound)).collect()
}

fn ceil_log2(x: u64) -> u32 {
    if x <= 1 {
        0
    } else {
        64 - (x - 1).leading_zeros()
    }
}

/// Costs one given schedule (`None` when its tiles overflow a buffer). Used by the search and to
/// check that a reported schedule ties with ours.
pub fn evaluate_schedule(
    config: &BitFusionConfig,
    layer: FcLayer,
    tiling: Tiling,
    order: LoopOrder,
) -> Result<Option<LayerReport>, HwError> {
    layer.validate()?;
    if tiling.b == 0 || tiling.ic == 0 || tiling.oc == 0 {
        return Err(HwError::InvalidLayer {
            reason: format!("tile sizes must be positive, got {tiling:?}"),
        });
    }
    let ctx = LayerContext::new(config, layer);
    Ok(ctx.footprints(&tiling).map(|fp| {
        let counters = ctx.evaluate(&tiling, fp, &order);
        LayerReport {
            layer,
            counters,
            energy: EnergyBreakdown::of(&counters, config),
            order,
            tiling,
        }
    }))
}

/// Searches the best schedule of `layer` on `config` (no caching; see
/// [`super::BitFusionSim`] for the cached entry point).
pub fn search_layer(config: &BitFusionConfig, layer: FcLayer) -> Result<LayerReport, HwError> {
    layer.validate()?;
    let ctx = LayerContext::new(config, layer);

    // Feasibility and footprints do not depend on the loop order: compute them once.
    let mut feasible = Vec::new();
    for &b in &tile_sizes(layer.batch, 1) {
        for &ic in &tile_sizes(layer.inputs, 1) {
            for &oc in &tile_sizes(layer.outputs, config.columns) {
                let tiling = Tiling { b, ic, oc };
                if let Some(fp) = ctx.footprints(&tiling) {
                    feasible.push((tiling, fp));
                }
            }
        }
    }

    let mut best: Option<(LayerCounters, EnergyBreakdown, LoopOrder, Tiling)> = None;
    for order in LoopOrder::all() {
        for (tiling, fp) in &feasible {
            let counters = ctx.evaluate(tiling, *fp, &order);
            let better = match &best {
                None => true,
                Some((c, e, _, _)) => {
                    counters.cycles < c.cycles
                        || (counters.cycles == c.cycles
                            && EnergyBreakdown::of(&counters, config).total_nj < e.total_nj)
                }
            };
            if better {
                let energy = EnergyBreakdown::of(&counters, config);
                best = Some((counters, energy, order, *tiling));
            }
        }
    }
    let (counters, energy, order, tiling) = best.ok_or_else(|| HwError::NoFeasibleTiling {
        config: config.name.clone(),
        inputs: layer.inputs,
        outputs: layer.outputs,
        batch: layer.batch,
        activation_bits: layer.activation_bits,
        weight_bits: layer.weight_bits,
    })?;
    Ok(LayerReport {
        layer,
        counters,
        energy,
        order,
        tiling,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_sizes_follow_reference_ranges() {
        assert_eq!(tile_sizes(1, 1), [1]);
        assert_eq!(tile_sizes(16, 1), [1, 2, 4, 8, 16]);
        assert_eq!(tile_sizes(1100, 1).last(), Some(&1100));
        assert_eq!(tile_sizes(1100, 1).len(), 12);
        // OC in multiples of M = 32: ceil(256/32) = 8 → k = 0..=3.
        assert_eq!(tile_sizes(256, 32), [32, 64, 128, 256]);
        assert_eq!(tile_sizes(1904, 32), [32, 64, 128, 256, 512, 1024, 1904]);
    }

    #[test]
    fn worked_check_is_the_search_optimum() {
        let config = BitFusionConfig::bf_e();
        let layer = FcLayer::new(1024, 1024, 1, 2, 2).unwrap();
        let report = search_layer(&config, layer).unwrap();
        assert_eq!(report.counters.cycles, 11_275);
        assert_eq!(
            report.tiling,
            Tiling {
                b: 1,
                ic: 1024,
                oc: 64
            }
        );
    }

    #[test]
    fn impossible_buffers_are_a_typed_error() {
        let mut config = BitFusionConfig::bf_e();
        config.obuf_bytes = 2; // 8 bits usable: no 32-bit partial sum tile fits
        let layer = FcLayer::new(64, 64, 1, 8, 8).unwrap();
        assert!(matches!(
            search_layer(&config, layer),
            Err(HwError::NoFeasibleTiling { .. })
        ));
    }
}
