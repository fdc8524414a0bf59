//! Training throughput and memory of one model config: a few Adam steps (with dropout) on random
//! batches of `batch` utterances × `frames` frames. Prints frames/s; run it under
//! `/usr/bin/time -v` for the peak resident memory.
//!
//! `cargo run --release --example train_step -- models/sru-paper.toml [steps] [batch] [frames]`

use std::time::Instant;

use mohaq_sru::model::{ModelConfig, ModelParams, SruNetwork};
use mohaq_sru::train::adam::Adam;
use mohaq_sru::train::batching::{Batch, Chunk, SequenceRef};
use mohaq_sru::train::trainer::train_step;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).map_or("models/sru-paper.toml", String::as_str);
    let steps: usize = args.get(2).map_or(Ok(3), |s| s.parse())?;
    let batch_size: usize = args.get(3).map_or(Ok(8), |s| s.parse())?;
    let frames: usize = args.get(4).map_or(Ok(1000), |s| s.parse())?;
    let cfg = ModelConfig::load(std::path::Path::new(path))?;
    let net = SruNetwork::from_params(&ModelParams::init(&cfg, 1))?;
    let mut adam = Adam::new(net.vars(), 1e-3, 0.9, 0.999, 1e-8, 1e-7)?;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let dim = cfg.input_dim;
    let feats: Vec<Vec<f32>> = (0..batch_size)
        .map(|_| {
            (0..frames * dim)
                .map(|_| rng.random_range(-1.0..1.0))
                .collect()
        })
        .collect();
    let targets: Vec<Vec<u32>> = (0..batch_size)
        .map(|_| {
            (0..frames)
                .map(|_| rng.random_range(0..cfg.classes as u32))
                .collect()
        })
        .collect();
    let seqs: Vec<SequenceRef> = feats
        .iter()
        .zip(&targets)
        .map(|(f, t)| SequenceRef {
            feats: f,
            targets: t,
            dim,
        })
        .collect();
    let chunks: Vec<Chunk> = (0..batch_size)
        .map(|seq| Chunk {
            seq,
            start: 0,
            len: frames,
        })
        .collect();
    let batch = Batch::assemble(&seqs, &chunks);
    let mut dropout_rng = ChaCha8Rng::seed_from_u64(8);
    // The first step allocates the optimizer state; time the rest.
    train_step(
        &net,
        &mut adam,
        &batch,
        Some((cfg.dropout, &mut dropout_rng)),
    )?;
    let start = Instant::now();
    let mut loss = 0.0;
    for _ in 0..steps {
        loss = train_step(
            &net,
            &mut adam,
            &batch,
            Some((cfg.dropout, &mut dropout_rng)),
        )?;
    }
    let secs = start.elapsed().as_secs_f64();
    let total = (steps * batch.frames()) as f64;
    println!(
        "{}: {steps} steps of {batch_size} x {frames} frames in {secs:.2} s: {:.0} frames/s (loss {loss:.3})",
        cfg.name,
        total / secs
    );
    Ok(())
}
