//! Training throughput (one batch of 8 × 400 frames) and one-candidate dev evaluation
//! (32 synthetic utterances × 300 frames ≈ the dev split) for the default and paper-size models,
//! random weights.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mohaq_quant::BitWidth;
use mohaq_sru::decode::{Decoder, DecoderParams, PhoneBigram, StatePriors};
use mohaq_sru::features::{Dataset, Utterance};
use mohaq_sru::model::{ModelConfig, ModelParams, SruNetwork};
use mohaq_sru::quantized::{BitConfig, QuantizedEvaluator};
use mohaq_sru::train::adam::Adam;
use mohaq_sru::train::batching::{Batch, Chunk, SequenceRef};
use mohaq_sru::train::trainer::train_step;

#[path = "support/synthetic.rs"]
mod synthetic;

use synthetic::utterance;

fn config(name: &str, classes: usize) -> ModelConfig {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/");
    let mut c = ModelConfig::load(std::path::Path::new(&format!("{path}{name}.toml"))).unwrap();
    c.classes = classes;
    c
}

fn bench_train(c: &mut Criterion) {
    for (name, classes) in [("sru-default", 117), ("sru-paper", 1904)] {
        let cfg = config(name, classes);
        let net = SruNetwork::from_params(&ModelParams::init(&cfg, 1)).unwrap();
        let mut adam = Adam::new(net.vars(), 1e-3, 0.9, 0.999, 1e-8, 1e-7).unwrap();
        let utts: Vec<Utterance> = (0..8).map(|i| utterance(i, 400, classes)).collect();
        let seqs: Vec<SequenceRef> = utts
            .iter()
            .map(|u| SequenceRef {
                feats: &u.feats,
                targets: &u.targets,
                dim: 23,
            })
            .collect();
        let chunks: Vec<Chunk> = (0..8)
            .map(|s| Chunk {
                seq: s,
                start: 0,
                len: 400,
            })
            .collect();
        let batch = Batch::assemble(&seqs, &chunks);
        let mut g = c.benchmark_group(format!("train_step/{name}"));
        g.sample_size(10);
        g.throughput(Throughput::Elements(batch.frames() as u64));
        g.bench_function("8x400 frames", |b| {
            b.iter(|| train_step(&net, &mut adam, &batch, None).unwrap())
        });
        g.finish();
    }
}

fn bench_eval(c: &mut Criterion) {
    for (name, classes) in [("sru-default", 117), ("sru-paper", 117)] {
        let cfg = config(name, classes);
        let ds = Dataset {
            utterances: (0..32).map(|i| utterance(i, 300, classes)).collect(),
        };
        let decoder = Decoder::new(
            PhoneBigram::uniform(),
            StatePriors::uniform(),
            DecoderParams::default(),
        );
        let ev = QuantizedEvaluator::new(ModelParams::init(&cfg, 1), &ds, decoder).unwrap();
        let bits = BitConfig::uniform(&cfg, BitWidth::B8);
        ev.evaluate(&bits).unwrap();
        let mut g = c.benchmark_group(format!("dev_eval/{name}"));
        g.sample_size(10);
        g.bench_function("one candidate, 32 x 300 frames", |b| {
            b.iter(|| ev.evaluate(&bits).unwrap())
        });
        g.finish();
    }
}

criterion_group!(benches, bench_train, bench_eval);
criterion_main!(benches);
