//! Rewrites a model bundle with half-precision (f16) weight storage, keeping every tensor name
//! and all metadata (config, decoder statistics, tuned decoder parameters): how
//! `models/sru-550.safetensors` was made small enough to ship. The model still computes in f32.
//!
//! `cargo run --release --example store_f16 -- IN.safetensors OUT.safetensors`

use std::path::Path;

use mohaq_sru::model::params::{read_tensors, write_tensors_f16};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, output] = args.as_slice() else {
        return Err("usage: store_f16 IN.safetensors OUT.safetensors".into());
    };
    let (tensors, metadata) = read_tensors(Path::new(input))?;
    let mut names: Vec<&String> = tensors.keys().collect();
    names.sort();
    let list: Vec<(String, Vec<usize>, &[f32])> = names
        .iter()
        .map(|n| {
            let (shape, data) = &tensors[*n];
            ((*n).clone(), shape.clone(), data.as_slice())
        })
        .collect();
    write_tensors_f16(Path::new(output), &list, metadata)?;
    println!("{input} -> {output}: {} tensors stored as f16", list.len());
    Ok(())
}
