//! Front-end speed: feature extraction of all shipped audio (decode + fbank, no cache), of one
//! utterance, and Viterbi decoding. Run with short times on a shared machine:
//!
//! `cargo bench -p mohaq-sru --bench frontend -- --warm-up-time 1 --measurement-time 3`
//!
//! Throughput is reported in audio samples (16 kHz) or frames (100 per second of audio):
//! x real time = samples/s / 16000 = frames/s / 100.

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use mohaq_sru::data::audio::{decode_audio, read_audio};
use mohaq_sru::data::corpus::Corpus;
use mohaq_sru::decode::{Decoder, DecoderParams, PhoneBigram, StatePriors};
use mohaq_sru::features::{class_of, Fbank, FbankOptions, NUM_CLASSES};

fn data_dir() -> PathBuf {
    std::env::var_os("MOHAQ_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")).to_path_buf()
        })
}

fn features(c: &mut Criterion) {
    let corpus = Corpus::discover(&data_dir()).expect("the shipped corpus (set MOHAQ_DATA)");
    // File bytes are read once; every iteration decodes the audio and computes the features.
    let files: Vec<(PathBuf, Vec<u8>)> = corpus
        .utterances
        .iter()
        .map(|u| {
            (
                u.audio.clone(),
                std::fs::read(&u.audio).expect("audio readable"),
            )
        })
        .collect();
    let fbank = Fbank::new(&FbankOptions::default()).unwrap();
    let total_samples: u64 = files
        .par_iter()
        .map(|(p, b)| {
            decode_audio(p, b, 16000)
                .map(|a| a.samples.len() as u64)
                .unwrap_or(0)
        })
        .sum();
    eprintln!(
        "all shipped audio: {} files, {:.3} h, {} rayon threads",
        files.len(),
        total_samples as f64 / 16000.0 / 3600.0,
        rayon::current_num_threads()
    );
    let mut group = c.benchmark_group("features");
    group.sample_size(10);
    group.throughput(Throughput::Elements(total_samples));
    group.bench_function("all_shipped_audio_decode_and_fbank_parallel", |b| {
        b.iter(|| {
            files
                .par_iter()
                .map(|(p, bytes)| {
                    let audio = decode_audio(p, bytes, 16000).expect("decodes");
                    fbank.compute(&audio.samples, 0).len()
                })
                .sum::<usize>()
        })
    });
    let one = read_audio(&corpus.find("dr1-fvmh0/si836").unwrap().audio, 16000).unwrap();
    group.throughput(Throughput::Elements(one.samples.len() as u64));
    group.sample_size(30);
    group.bench_function("one_utterance_fbank_single_thread", |b| {
        b.iter(|| fbank.compute(&one.samples, 0))
    });
    group.finish();
}

/// Log posteriors of a plausible recogniser: the true state gets most mass, with noise.
fn noisy_posteriors(frames: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let mut out = Vec::with_capacity(frames * NUM_CLASSES);
    let mut t = 0;
    while t < frames {
        let phone = rng.random_range(0..39u8);
        let dur = rng.random_range(3..15usize).min(frames - t);
        for i in 0..dur {
            let target = class_of(phone, ((i * 3) / dur).min(2) as u8) as usize;
            let mut row: Vec<f32> = (0..NUM_CLASSES)
                .map(|_| rng.random_range(-12.0..-4.0f32))
                .collect();
            row[target] = rng.random_range(-1.0..-0.05f32);
            out.extend(row);
        }
        t += dur;
    }
    out
}

fn decoding(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let sequences: Vec<Vec<u8>> = (0..200)
        .map(|_| (0..40).map(|_| rng.random_range(0..39u8)).collect())
        .collect();
    let bigram = PhoneBigram::from_sequences(sequences.iter().map(Vec::as_slice), 0.5);
    let decoder = Decoder::new(bigram, StatePriors::uniform(), DecoderParams::default());
    let mut group = c.benchmark_group("decode");
    // A dev set like the search's: 32 utterances of 300 frames.
    let dev: Vec<Vec<f32>> = (0..32).map(|_| noisy_posteriors(300, &mut rng)).collect();
    group.throughput(Throughput::Elements(32 * 300));
    group.bench_function("viterbi_32x300_frames", |b| {
        b.iter(|| {
            dev.iter()
                .map(|p| decoder.decode(p, 300).len())
                .sum::<usize>()
        })
    });
    for frames in [100usize, 300] {
        let post = noisy_posteriors(frames, &mut rng);
        group.throughput(Throughput::Elements(frames as u64));
        group.bench_with_input(
            BenchmarkId::new("viterbi_one_utterance", frames),
            &post,
            |b, p| b.iter(|| decoder.decode(p, frames)),
        );
    }
    group.finish();
}

criterion_group!(benches, features, decoding);
criterion_main!(benches);
