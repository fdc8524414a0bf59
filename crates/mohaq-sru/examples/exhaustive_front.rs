//! Times the exhaustive SiLago space (8 shared genes, widths 4/8/16: 6,561 candidates) on the
//! synthetic dev-sized set of `eval_candidate` (32 × 300 frames, random weights): once with
//! `evaluate_many` (shared prefixes computed once), and independently for the first `sample`
//! candidates, whose results must agree bit for bit; the independent time is extrapolated.
//!
//! `cargo run --release -p mohaq-sru --example exhaustive_front -- [sru-default|sru-paper] [sample]`

use std::time::Instant;

use mohaq_sru::decode::{Decoder, DecoderParams, PhoneBigram, StatePriors};
use mohaq_sru::features::Dataset;
use mohaq_sru::model::{ModelConfig, ModelParams};
use mohaq_sru::quantized::{BitConfig, QuantizedEvaluator};

#[path = "../benches/support/synthetic.rs"]
mod synthetic;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).map_or("sru-default", String::as_str);
    let sample: usize = args.get(2).map_or(Ok(40), |s| s.parse())?;
    let path = format!("{}/../../models/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let mut cfg = ModelConfig::load(std::path::Path::new(&path))?;
    cfg.classes = 117;
    let ds = Dataset {
        utterances: (0..32)
            .map(|i| synthetic::utterance(i, 300, cfg.classes))
            .collect(),
    };
    let decoder = Decoder::new(
        PhoneBigram::uniform(),
        StatePriors::uniform(),
        DecoderParams::default(),
    );
    let ev = QuantizedEvaluator::new(ModelParams::init(&cfg, 1), &ds, decoder)?;
    let layers = 2 * cfg.layers;
    let total = 3usize.pow(layers as u32);
    let configs = (0..total)
        .map(|mut i| {
            let genes: Vec<String> = (0..layers)
                .map(|_| {
                    let w = [4, 8, 16][i % 3];
                    i /= 3;
                    w.to_string()
                })
                .collect();
            BitConfig::parse(&cfg, &genes.join(","))
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Quantize every weight once, outside both timings.
    for b in &configs[..3] {
        ev.evaluate(b)?;
    }
    let start = Instant::now();
    let batch = ev.evaluate_many(&configs)?;
    let batch_s = start.elapsed().as_secs_f64();
    let start = Instant::now();
    for (b, got) in configs.iter().zip(&batch).take(sample) {
        let r = ev.evaluate(b)?;
        assert_eq!((r.per, r.frame_acc), (got.per, got.frame_acc), "{b}");
    }
    let one = start.elapsed().as_secs_f64() / sample as f64;
    println!(
        "{name}: {total} candidates with prefix reuse: {batch_s:.1} s; independent: {one:.3} s \
         per candidate (mean of {sample}, equal results) = {:.1} s extrapolated; speed-up {:.1}x",
        one * total as f64,
        one * total as f64 / batch_s
    );
    Ok(())
}
