//! `QuantizedEvaluator::evaluate_many` shares the steps of common width prefixes between
//! candidates; its results must equal independent evaluations bit for bit, in the order given.

use mohaq_quant::BitWidth;
use mohaq_sru::decode::{Decoder, DecoderParams, PhoneBigram, StatePriors};
use mohaq_sru::features::Dataset;
use mohaq_sru::model::{ModelConfig, ModelParams};
use mohaq_sru::quantized::{BitConfig, QuantizedEvaluator};

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

#[test]
fn shared_prefixes_give_the_results_of_independent_evaluations() {
    let (cfg, ev) = small_evaluator();
    let genes = 4 * cfg.layers;
    let widths = [2u32, 4, 8, 16];
    // A pseudo-random batch with long shared prefixes, repeats and mixed weight/activation widths.
    let mut configs = Vec::new();
    for i in 0..48u64 {
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
        configs.push(BitConfig::from_genes(&cfg, &g).unwrap());
    }
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
