//! Measures a cost table (`cost_model = "table"`, see `mohaq_hw::measured`) for mohaq's own
//! integer engine on this CPU: for every matrix layer of a model and every (weight bits,
//! activation bits) pair, the time of one quantized linear layer (quantize the input frames,
//! integer product, dequantize), per frame, median over repetitions. The output is the CSV a
//! platform file names, so the search can optimise for the machine it runs on.
//!
//! `cargo run --release -p mohaq-app --example measure_cost_table -- MODEL.toml [FRAMES [REPS]]`
//! (after a workspace build; set `RAYON_NUM_THREADS=1` for a single-core figure). The CSV goes to
//! stdout, the settings to stderr.

use std::path::Path;
use std::time::Instant;

use mohaq_quant::{quantized_linear, BitWidth, PackedMatrix, QuantParams};
use mohaq_sru::model::ModelConfig;

/// A deterministic uniform value in [-1, 1) (an LCG: the data's values do not change the time).
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(model) = args.first() else {
        return Err("usage: measure_cost_table MODEL.toml [FRAMES [REPS]]".into());
    };
    let frames: usize = args.get(1).map_or(Ok(200), |s| s.parse())?;
    let reps: usize = args.get(2).map_or(Ok(9), |s| s.parse())?;
    let config = ModelConfig::load(Path::new(model))?;
    eprintln!(
        "model {}: {frames} frames per call, median of {reps} calls, {} rayon threads",
        config.name,
        rayon::current_num_threads()
    );
    println!(
        "# mohaq's integer engine, model {}, measure_cost_table {frames} {reps}",
        config.name
    );
    println!("layer,weight_bits,activation_bits,latency_us");
    let widths = [16u32, 8, 4, 2];
    for layer in config.matrix_layers() {
        let w_values = values(layer.out_dim * layer.in_dim, 1);
        let x_values = values(frames * layer.in_dim, 2);
        for &wb in &widths {
            let w_bits = BitWidth::new(wb)?;
            let w = PackedMatrix::quantize_mmse(&w_values, layer.out_dim, layer.in_dim, w_bits)?;
            for &ab in &widths {
                let x_params = QuantParams::mmse(&x_values, BitWidth::new(ab)?)?;
                let mut times = Vec::with_capacity(reps);
                // One untimed call warms caches and the kernel choice.
                quantized_linear(&x_values, frames, x_params, &w)?;
                for _ in 0..reps {
                    let start = Instant::now();
                    let y = quantized_linear(&x_values, frames, x_params, &w)?;
                    times.push(start.elapsed().as_secs_f64());
                    std::hint::black_box(y);
                }
                times.sort_by(f64::total_cmp);
                let per_frame_us = times[reps / 2] / frames as f64 * 1e6;
                println!("{},{wb},{ab},{per_frame_us:.4}", layer.name);
            }
        }
    }
    Ok(())
}
