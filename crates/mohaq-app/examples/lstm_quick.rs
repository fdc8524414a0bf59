//! The LSTM part of `cargo xtask reproduce --quick` on its own (the searches of
//! `experiments/lstm-*.toml` on `models/lstm-mohaq.safetensors` with the quick budget), into
//! OUT_DIR, with the section it adds to the report written to OUT_DIR/LSTM.md; prints the time.
//!
//! ```text
//! cargo run --release -p mohaq-app --example lstm_quick -- OUT_DIR [DATA_DIR]
//! ```

use std::path::PathBuf;
use std::time::Instant;

use mohaq_app::lstm_reproduce::{lstm_section, reproduce_lstm};
use mohaq_app::reproduce::ReproduceConfig;
use mohaq_evo::Silent;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1).map(PathBuf::from);
    let out = args.next().ok_or("usage: lstm_quick OUT_DIR [DATA_DIR]")?;
    let data = args.next();
    let config = ReproduceConfig::new(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."),
        out.clone(),
        true,
    );
    let start = Instant::now();
    let results = reproduce_lstm(&config, data.as_deref(), &mut Silent)?;
    let section = lstm_section(&out, results.as_ref())?;
    std::fs::write(out.join("LSTM.md"), &section)?;
    println!(
        "{section}\nLSTM part: {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
