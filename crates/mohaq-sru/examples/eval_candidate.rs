//! Times one-candidate quantized evaluations on a synthetic dev-sized set (32 × 300 frames, random
//! weights), as the `dev_eval` benchmark does; handy under `perf record` to see where time goes.
//!
//! `cargo run --release --example eval_candidate -- [sru-default|sru-paper] [bits] [repeats]`

use std::time::Instant;

use mohaq_quant::BitWidth;
use mohaq_sru::decode::{Decoder, DecoderParams, PhoneBigram, StatePriors};
use mohaq_sru::features::Dataset;
use mohaq_sru::model::{ModelConfig, ModelParams};
use mohaq_sru::quantized::{ActivationMode, BitConfig, QuantizedEvaluator};

#[path = "../benches/support/synthetic.rs"]
mod synthetic;

use synthetic::utterance;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).map_or("sru-default", String::as_str);
    let bits: u32 = args.get(2).map_or(Ok(8), |s| s.parse())?;
    let repeats: usize = args.get(3).map_or(Ok(5), |s| s.parse())?;
    let path = format!("{}/../../models/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let mut cfg = ModelConfig::load(std::path::Path::new(&path))?;
    cfg.classes = 117;
    let ds = Dataset {
        utterances: (0..32).map(|i| utterance(i, 300, cfg.classes)).collect(),
    };
    let decoder = Decoder::new(
        PhoneBigram::uniform(),
        StatePriors::uniform(),
        DecoderParams::default(),
    );
    let ev = QuantizedEvaluator::new(ModelParams::init(&cfg, 1), &ds, decoder)?;
    if repeats == 0 {
        return checksum(&ev, &cfg, &ds);
    }
    let bits = BitConfig::uniform(&cfg, BitWidth::new(bits)?);
    let first = ev.evaluate(&bits)?;
    println!(
        "first call (quantizes weights): {:.3} s, {first:?}",
        first.seconds
    );
    let start = Instant::now();
    for _ in 0..repeats {
        let r = ev.evaluate(&bits)?;
        assert_eq!(r.per, first.per);
    }
    let mean = start.elapsed().as_secs_f64() / repeats as f64;
    println!("{name} bits {bits}: {mean:.3} s per evaluation (mean of {repeats})");
    Ok(())
}

/// Prints a bit-level digest of the log posteriors and thresholds of 4 utterances at several bit
/// configurations (repeats = 0): compare digests before and after a change to prove it exact.
fn checksum(
    ev: &QuantizedEvaluator,
    cfg: &ModelConfig,
    ds: &Dataset,
) -> Result<(), Box<dyn std::error::Error>> {
    let n = 4 * cfg.layers;
    let mixed: Vec<u32> = (0..n).map(|i| [2, 4, 8, 16][(i * 3 + 1) % 4]).collect();
    let configs = [
        BitConfig::uniform(cfg, BitWidth::B16),
        BitConfig::uniform(cfg, BitWidth::B8),
        BitConfig::uniform(cfg, BitWidth::B4),
        BitConfig::uniform(cfg, BitWidth::B2),
        BitConfig::from_genes(cfg, &mixed)?,
    ];
    for bits in &configs {
        let frozen = ev.calibrate(bits)?;
        let weights = ev.model().weights(bits)?;
        let mut digest = 0xcbf2_9ce4_8422_2325u64;
        let mut mix = |v: f32| {
            digest ^= u64::from((v + 0.0).to_bits());
            digest = digest.wrapping_mul(0x100_0000_01b3);
        };
        frozen.alphas.iter().for_each(|&a| mix(a));
        for u in ds.utterances.iter().take(4) {
            for mode in [
                ActivationMode::PerUtterance,
                ActivationMode::Frozen(&frozen.alphas),
            ] {
                let mut alphas = vec![0f32; bits.layers.len()];
                let lp = ev.model().forward(
                    &u.feats,
                    u.num_frames(),
                    bits,
                    &weights,
                    mode,
                    &mut alphas,
                )?;
                lp.iter().chain(&alphas).for_each(|&v| mix(v));
            }
        }
        let r = ev.evaluate(bits)?;
        println!(
            "{bits}: digest {digest:016x} per {} acc {}",
            r.per, r.frame_acc
        );
    }
    Ok(())
}
