//! `QuantizedEvaluator::evaluate_many` shares the steps of common width prefixes between
//! candidates; its results must equal independent evaluations bit for bit, in the order given.

use mohaq_quant::BitWidth;
use mohaq_sru::decode::{Decoder, DecoderParams, PhoneBigram, StatePriors};
use mohaq_sru::features::Dataset;
use mohaq_sru::model::{ModelConfig, ModelParams};
use mohaq_sru::quantized::{BitConfig, PrefixCache, QuantizedEvaluator, ReuseStats};

#[path = "../benches/support/synthetic.rs"]
mod synthetic;

fn small_evaluator() -> (ModelConfig, QuantizedEvaluator) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/sru-default.toml");
    let mut cfg = ModelConfig::load(std::path::Path::new(path)).unwrap();
    cfg.hidden = 24;
    cfg.projection = 12;
    cfg.classes = 117;
    let ds = Dataset {
        utterances: (0..5)
            .map(|i| synthetic::utterance(i, 40 + 13 * i, cfg.classes))
            .collect(),
    };
    let decoder = Decoder::new(
        PhoneBigram::uniform(),
        StatePriors::uniform(),
        DecoderParams::default(),
    );
    let ev = QuantizedEvaluator::new(ModelParams::init(&cfg, 3), &ds, decoder).unwrap();
    (cfg, ev)
}

/// A pseudo-random batch with long shared prefixes and mixed weight/activation widths.
fn batch(cfg: &ModelConfig, seed: u64, n: u64) -> Vec<BitConfig> {
    let genes = 4 * cfg.layers;
    let widths = [2u32, 4, 8, 16];
    let mut configs = Vec::new();
    for i in seed..seed + n {
        let h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let g: Vec<u32> = (0..genes)
            .map(|k| {
                let sel = if k < genes / 2 {
                    (i / 16) as usize
                } else {
                    (h >> (2 * k)) as usize
                };
                widths[sel % 4]
            })
            .collect();
        configs.push(BitConfig::from_genes(cfg, &g).unwrap());
    }
    configs
}

#[test]
fn shared_prefixes_give_the_results_of_independent_evaluations() {
    let (cfg, ev) = small_evaluator();
    // Repeats too.
    let mut configs = batch(&cfg, 0, 48);
    configs.push(configs[3].clone());
    configs.push(BitConfig::uniform(&cfg, BitWidth::B8));
    let batch = ev.evaluate_many(&configs).unwrap();
    assert_eq!(batch.len(), configs.len());
    let mut distinct = std::collections::HashSet::new();
    for (bits, got) in configs.iter().zip(&batch) {
        let mut want = ev.evaluate(bits).unwrap();
        want.seconds = got.seconds;
        assert_eq!(got, &want, "{bits}");
        distinct.insert(got.per.to_bits());
    }
    assert!(distinct.len() > 3, "the batch should not be degenerate");
    assert!(ev.evaluate_many(&[]).unwrap().is_empty());
}

#[test]
fn a_candidate_with_the_wrong_gene_count_is_refused() {
    let (cfg, ev) = small_evaluator();
    let mut bad = BitConfig::uniform(&cfg, BitWidth::B4);
    bad.layers.pop();
    assert!(ev.evaluate_many(&[bad]).is_err());
}

/// Runs `batches` through one cache of `cap` bytes; every result must equal an independent
/// evaluation. Returns the cache's final statistics.
fn through_cache(ev: &QuantizedEvaluator, batches: &[Vec<BitConfig>], cap: u64) -> ReuseStats {
    let cache = PrefixCache::new(cap);
    for configs in batches {
        let (got, _) = ev.evaluate_many_cached(configs, &cache).unwrap();
        assert_eq!(got.len(), configs.len());
        for (bits, got) in configs.iter().zip(&got) {
            let mut want = ev.evaluate(bits).unwrap();
            want.seconds = got.seconds;
            assert_eq!(got, &want, "{bits} with a cap of {cap} bytes");
        }
        let s = cache.stats();
        assert!(s.bytes_held <= cap, "{s:?}");
    }
    cache.stats()
}

#[test]
fn the_layer_output_cache_changes_no_result_and_stays_under_its_cap() {
    let (cfg, ev) = small_evaluator();
    // Later batches revisit prefixes of earlier ones (the same prefix seeds, other suffixes).
    let batches: Vec<Vec<BitConfig>> = (0..4).map(|k| batch(&cfg, 7 * k, 12)).collect();
    let roomy = through_cache(&ev, &batches, 1 << 30);
    assert!(roomy.steps_reused_from_cache > 0, "{roomy:?}");
    assert_eq!(roomy.evictions, 0);
    assert_eq!(roomy.peak_bytes, roomy.bytes_held);
    // A cap of about one entry: constant eviction, same results.
    let frames: u64 = (0..5).map(|i| 40 + 13 * i).sum();
    let one_entry = 4 * frames * (cfg.layer_output() + cfg.projection) as u64;
    let tight = through_cache(&ev, &batches, one_entry);
    assert!(tight.evictions > 0, "{tight:?}");
    assert!(tight.steps_reused_from_cache < roomy.steps_reused_from_cache);
    assert_eq!(tight.steps_needed, roomy.steps_needed);
    // Nothing fits: a cache that never holds anything.
    let empty = through_cache(&ev, &batches, 1);
    assert_eq!((empty.entries, empty.steps_reused_from_cache), (0, 0));
    assert!(empty.cache_hit_rate() == 0.0 && roomy.cache_hit_rate() > 0.0);
}

#[test]
fn the_cache_statistics_are_the_same_at_any_thread_count() {
    let (cfg, ev) = small_evaluator();
    let batches: Vec<Vec<BitConfig>> = (0..3).map(|k| batch(&cfg, 5 * k, 10)).collect();
    let frames: u64 = (0..5).map(|i| 40 + 13 * i).sum();
    let cap = 6 * 4 * frames * cfg.layer_output() as u64;
    let on = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| through_cache(&ev, &batches, cap))
    };
    let one = on(1);
    assert!(
        one.evictions > 0 && one.steps_reused_from_cache > 0,
        "{one:?}"
    );
    assert_eq!(one, on(2));
    assert_eq!(one, on(3));
}
