//! The cycle-level Bit Fusion platform on the paper's SRU, the memo under threads, and
//! properties of the schedule search.

use mohaq_hw::bitfusion::{
    evaluate_schedule, search_layer, BitFusionConfig, BitFusionSim, FcLayer, LoopOrder, Tiling,
};
use mohaq_hw::{CostModel, HwError, MatrixLayer, Platform, Workload};
use proptest::prelude::*;

fn sim_platform() -> Platform {
    let path = format!(
        "{}/../../platforms/bitfusion-bf_e.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    Platform::from_toml_file(path).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn sixteen_bit_baseline_scores_like_the_paper() {
    let p = sim_platform();
    let w = Workload::paper_sru();
    let cost = p.evaluate(&w, &[(16, 16); 8]).unwrap();
    // Every layer runs at its own baseline: per-layer speedup 1, paper mode Σ MACs / 5,637,500.
    assert!(cost.layers.iter().all(|l| l.speedup == 1.0));
    assert_eq!(cost.speedup_paper, 5_549_500.0 / 5_637_500.0);
    assert_eq!(cost.speedup_physical, 1.0);
    let sim = cost.simulation.as_ref().unwrap();
    assert_eq!(sim.cycles_per_batch, sim.baseline_cycles_per_batch);
    assert_eq!(sim.batch, 1);
    // 500 MHz: µs = cycles / 500.
    assert_eq!(sim.microseconds_per_frame, sim.cycles_per_frame / 500.0);
    assert!(cost.energy_uj_per_frame.unwrap() > 0.0);
}

#[test]
fn narrower_widths_are_faster_and_cheaper_but_memory_bound() {
    let p = sim_platform();
    let w = Workload::paper_sru();
    let c16 = p.evaluate(&w, &[(16, 16); 8]).unwrap();
    let c8 = p.evaluate(&w, &[(8, 8); 8]).unwrap();
    let c2 = p.evaluate(&w, &[(2, 2); 8]).unwrap();
    assert!(c16.speedup_physical < c8.speedup_physical);
    assert!(c8.speedup_physical < c2.speedup_physical);
    assert!(c2.energy_uj_per_frame < c8.energy_uj_per_frame);
    // At batch 1 every weight crosses DRAM each frame, so 2-bit stays far below the compute
    // bound of 64 (weight traffic shrinks only 8×).
    assert!(c2.speedup_physical < 10.0, "{}", c2.speedup_physical);
    // Per-utterance figures scale with whole batches.
    let sim = c2.simulation.unwrap();
    let (us, uj) = sim.per_utterance(300);
    assert!((us - 300.0 * sim.microseconds_per_frame).abs() < 1e-6 * us);
    assert!((uj - 300.0 * sim.energy_uj_per_frame).abs() < 1e-9 * uj);
}

#[test]
fn batching_amortises_weight_traffic() {
    let path = format!(
        "{}/../../platforms/bitfusion-bf_e.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("config = \"bitfusion/bf_e.toml\"", "config = \"bf_e\"")
        .replace("batch = 1", "batch = 16");
    let p16 = Platform::from_toml_str(&text).unwrap();
    let w = Workload::paper_sru();
    let one = sim_platform().evaluate(&w, &[(8, 8); 8]).unwrap();
    let many = p16.evaluate(&w, &[(8, 8); 8]).unwrap();
    let (s1, s16) = (one.simulation.unwrap(), many.simulation.unwrap());
    assert_eq!(s16.batch, 16);
    assert!(s16.cycles_per_frame < s1.cycles_per_frame);
    assert!(s16.energy_uj_per_frame < s1.energy_uj_per_frame);
}

#[test]
fn layers_without_shape_are_rejected() {
    let p = sim_platform();
    let w = Workload::new("counts", vec![MatrixLayer::new("x", 100, 100)]).unwrap();
    assert!(matches!(
        p.evaluate(&w, &[(8, 8)]),
        Err(HwError::MissingShape { .. })
    ));
}

#[test]
fn memo_is_shared_and_thread_safe() {
    let p = sim_platform();
    let w = Workload::paper_sru();
    let assignments: Vec<Vec<(u32, u32)>> = [2u32, 4, 8, 16]
        .iter()
        .flat_map(|&a| [2u32, 4, 8, 16].map(move |b| vec![(a, b); 8]))
        .collect();
    let sequential: Vec<f64> = assignments
        .iter()
        .map(|bits| p.evaluate(&w, bits).unwrap().speedup)
        .collect();

    let fresh = sim_platform();
    let parallel: Vec<f64> = std::thread::scope(|scope| {
        let handles: Vec<_> = assignments
            .iter()
            .map(|bits| {
                let p = fresh.clone();
                let w = &w;
                scope.spawn(move || p.evaluate(w, bits).unwrap().speedup)
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(sequential, parallel);
    let CostModel::BitFusionSim { sim, .. } = fresh.cost_model() else {
        panic!("simulation expected")
    };
    // 4 distinct layer shapes × 16 width pairs, shared by all clones.
    assert_eq!(sim.cached_layers(), 4 * 16);
}

#[test]
fn sixteen_bit_layers_take_four_passes() {
    // With weights at 16 bits the compute of 8×8 is repeated temporally; a compute-bound layer
    // (large batch, small weights) shows it in the compute cycles.
    let config = BitFusionConfig::bf_e();
    let l8 = search_layer(&config, FcLayer::new(256, 256, 64, 8, 8).unwrap()).unwrap();
    let l16 = search_layer(&config, FcLayer::new(256, 256, 64, 16, 16).unwrap()).unwrap();
    assert_eq!(
        l16.counters.compute_cycles(),
        4 * l8.counters.compute_cycles()
    );
}

fn widths() -> impl Strategy<Value = u32> {
    prop::sample::select(vec![2u32, 4, 8, 16])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The search result is no worse than any other schedule, respects the compute bound, and
    /// reads every weight from DRAM at least once.
    #[test]
    fn search_is_optimal_and_bounded(
        inputs in 1u64..600,
        outputs in 1u64..600,
        batch in 1u64..9,
        a in widths(),
        w in widths(),
        b_exp in 0u32..4,
        ic_exp in 0u32..10,
        oc_exp in 0u32..5,
        order_index in 0usize..120,
    ) {
        let config = BitFusionConfig::bf_e();
        let layer = FcLayer::new(inputs, outputs, batch, a, w).unwrap();
        let best = search_layer(&config, layer).unwrap();
        let tiling = Tiling {
            b: (1u64 << b_exp).min(batch),
            ic: (1u64 << ic_exp).min(inputs),
            oc: ((1u64 << oc_exp) * config.columns).min(outputs),
        };
        let order = LoopOrder::all()[order_index];
        if let Some(other) = evaluate_schedule(&config, layer, tiling, order).unwrap() {
            prop_assert!(
                best.counters.cycles < other.counters.cycles
                    || (best.counters.cycles == other.counters.cycles
                        && best.energy.total_nj <= other.energy.total_nj)
            );
        }
        // Compute bound: all MACs spread over rows × columns × products per cycle, times passes.
        let passes = if a > 8 { 2 } else { 1 } * if w > 8 { 2 } else { 1 };
        let per_cycle = config.rows * config.columns
            * u64::from(8 / a.clamp(2, 8)) * u64::from(8 / w.clamp(2, 8));
        let bound = (inputs * outputs * batch).div_ceil(per_cycle) * passes;
        prop_assert!(best.counters.compute_cycles() >= bound);
        prop_assert!(best.counters.dram_rd >= inputs * outputs * u64::from(w));
        prop_assert!(best.counters.cycles >= best.counters.stall);
        let e = best.energy;
        prop_assert!((e.core_nj + e.sram_nj + e.dram_nj - e.total_nj).abs() <= 1e-9 * e.total_nj);
    }

    /// The harmonic latency ratio never exceeds the paper's arithmetic mean (with the
    /// normaliser equal to the sum of MACs) and both lie within the per-layer speedups.
    #[test]
    fn physical_speedup_is_at_most_paper_speedup(genes in prop::collection::vec(widths(), 16)) {
        let path = format!("{}/../../platforms/bitfusion.toml", env!("CARGO_MANIFEST_DIR"));
        let p = Platform::from_toml_file(path).unwrap();
        let w = Workload::from_counts("sru", Workload::paper_sru().layers().iter()
            .map(|l| (l.name.clone(), l.weights, l.macs))).unwrap();
        let bits = mohaq_hw::paper_sru_bits_from_genes(&genes).unwrap();
        let cost = p.evaluate(&w, &bits).unwrap();
        let lo = cost.layers.iter().map(|l| l.speedup).fold(f64::INFINITY, f64::min);
        let hi = cost.layers.iter().map(|l| l.speedup).fold(0.0, f64::max);
        prop_assert!(cost.speedup_physical <= cost.speedup_paper * (1.0 + 1e-12));
        prop_assert!(lo * (1.0 - 1e-12) <= cost.speedup_physical);
        prop_assert!(cost.speedup_paper <= hi * (1.0 + 1e-12));
    }
}

#[test]
fn sim_memo_returns_the_uncached_result() {
    let sim = BitFusionSim::new(BitFusionConfig::conf());
    let layer = FcLayer::new(1100, 256, 4, 4, 2).unwrap();
    let first = sim.simulate(layer).unwrap();
    let second = sim.simulate(layer).unwrap();
    assert_eq!(first, second);
    assert_eq!(
        first,
        search_layer(&BitFusionConfig::conf(), layer).unwrap()
    );
    assert_eq!(sim.cached_layers(), 1);
}
