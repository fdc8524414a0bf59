//! Speed of the cost models as a genetic search uses them: one whole-workload analytic
//! evaluation (called once per candidate), one uncached Bit Fusion layer search (the price of a
//! memo miss), and one whole-workload simulated evaluation with a warm memo.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use mohaq_hw::bitfusion::{search_layer, BitFusionConfig, FcLayer};
use mohaq_hw::{Platform, Workload};

fn platform(file: &str) -> Platform {
    let path = format!("{}/../../platforms/{file}", env!("CARGO_MANIFEST_DIR"));
    match Platform::from_toml_file(&path) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn analytic(c: &mut Criterion) {
    let workload = Workload::paper_sru();
    let bits = [
        (8, 8),
        (4, 4),
        (4, 4),
        (8, 8),
        (4, 4),
        (16, 16),
        (4, 4),
        (8, 8),
    ];
    let silago = platform("silago.toml");
    c.bench_function("analytic/silago_paper_sru", |b| {
        b.iter(|| silago.evaluate(black_box(&workload), black_box(&bits)))
    });
    let bitfusion = platform("bitfusion.toml");
    let bits = [
        (2, 4),
        (4, 4),
        (2, 8),
        (8, 8),
        (4, 2),
        (16, 16),
        (2, 2),
        (4, 8),
    ];
    c.bench_function("analytic/bitfusion_paper_sru", |b| {
        b.iter(|| bitfusion.evaluate(black_box(&workload), black_box(&bits)))
    });
}

fn bitfusion_search(c: &mut Criterion) {
    let config = BitFusionConfig::bf_e();
    // The paper SRU's largest layer (FC 1100 → 1904) and the worked check's shape.
    for (name, layer) in [
        (
            "bitfusion/search_uncached_1100x1904_b1_a4w4",
            FcLayer::new(1100, 1904, 1, 4, 4),
        ),
        (
            "bitfusion/search_uncached_1024x1024_b16_a2w2",
            FcLayer::new(1024, 1024, 16, 2, 2),
        ),
    ] {
        let layer = layer.expect("valid layer");
        c.bench_function(name, |b| {
            b.iter(|| search_layer(black_box(&config), black_box(layer)))
        });
    }
    let sim = platform("bitfusion-bf_e.toml");
    let workload = Workload::paper_sru();
    let bits = [
        (2, 4),
        (4, 4),
        (2, 8),
        (8, 8),
        (4, 2),
        (16, 16),
        (2, 2),
        (4, 8),
    ];
    let _ = sim.evaluate(&workload, &bits); // warm the memo
    c.bench_function("bitfusion/workload_cached_paper_sru", |b| {
        b.iter(|| sim.evaluate(black_box(&workload), black_box(&bits)))
    });
}

criterion_group!(benches, analytic, bitfusion_search);
criterion_main!(benches);
