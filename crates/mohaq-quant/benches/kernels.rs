//! Throughput of candle's f32 matmul against the integer kernels on the paper model's shapes
//! (T = 300 frames), and the weight memory of each. Ops are counted as 2·T·in·out (multiply and
//! add), so criterion's "elem/s" reads as ops/s. Run with short times, the machine is shared:
//! `cargo bench -p mohaq-quant --bench kernels -- --warm-up-time 1 --measurement-time 3`.

use candle_core::{Device, Tensor};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mohaq_quant::{
    available_paths, qmatmul, qmatmul_with, BitWidth, KernelPath, PackedMatrix, QuantParams,
    QuantizedActivations,
};
use std::hint::black_box;

const FRAMES: usize = 300;
/// (in, out) of the paper's matrix layers: L0, L1..L3, P1..P3, FC.
const SHAPES: [(usize, usize); 4] = [(23, 3300), (256, 3300), (1100, 256), (1100, 1904)];

/// Deterministic pseudo-random values in [-1, 1).
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("matmul_T300");
    for &(cols, rows) in &SHAPES {
        let name = format!("{cols}x{rows}");
        let ops = 2 * FRAMES * cols * rows;
        group.throughput(Throughput::Elements(ops as u64));
        let xv = values(FRAMES * cols, 1);
        let wv = values(rows * cols, 2);

        let x = Tensor::from_slice(&xv, (FRAMES, cols), &Device::Cpu).expect("tensor");
        let w = Tensor::from_slice(&wv, (rows, cols), &Device::Cpu).expect("tensor");
        let wt = w.t().and_then(|t| t.contiguous()).expect("transpose");
        eprintln!(
            "memory {name} f32: {} bytes",
            rows * cols * std::mem::size_of::<f32>()
        );
        group.bench_function(BenchmarkId::new("candle_f32", &name), |b| {
            b.iter(|| black_box(x.matmul(&wt).expect("matmul")))
        });
        // The floor every kernel shares: allocating and writing the T × out f32 output once
        // (throughput still counted as the shape's ops, so it reads as an upper bound).
        group.bench_function(BenchmarkId::new("output_write_floor", &name), |b| {
            b.iter(|| black_box(vec![1.0f32; FRAMES * rows]))
        });

        for (wbits, xbits) in [(8, 8), (4, 8), (2, 8), (4, 4), (2, 2), (16, 16)] {
            let wb = BitWidth::new(wbits).expect("bits");
            let xb = BitWidth::new(xbits).expect("bits");
            let wq = PackedMatrix::quantize_mmse(&wv, rows, cols, wb).expect("pack");
            let xp = QuantParams::mmse(&xv, xb).expect("calibrate");
            let xq = QuantizedActivations::quantize(&xv, FRAMES, cols, xp).expect("quantize");
            eprintln!(
                "memory {name} w{wbits}: {} bytes (f32 / {:.2})",
                wq.memory_bytes(),
                (rows * cols * 4) as f64 / wq.memory_bytes() as f64
            );
            group.bench_function(BenchmarkId::new(format!("w{wbits}a{xbits}"), &name), |b| {
                b.iter(|| black_box(qmatmul(&xq, &wq).expect("qmatmul")))
            });
            // The narrower paths for comparison, at 8 bits only: 256-bit AVX-VNNI, plain AVX2.
            let others = [
                (KernelPath::AvxVnni, "avxvnni"),
                (KernelPath::Avx2, "avx2_only"),
            ];
            for (path, label) in others {
                if wbits != 8 || !available_paths().contains(&path) {
                    continue;
                }
                let id = BenchmarkId::new(format!("w{wbits}a{xbits}_{label}"), &name);
                group.bench_function(id, |b| {
                    b.iter(|| black_box(qmatmul_with(&xq, &wq, path).expect("qmatmul")))
                });
            }
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
