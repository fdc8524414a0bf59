//! Hypervolume of a front read from stdin as CSV lines (one point per line, no header).
//!
//! ```text
//! cargo run --release -p mohaq-evo --example hv -- --ref 1.1 < front.csv
//! ```
//!
//! `--ref` is one value for every objective or a comma-separated point.

use std::io::BufRead;
use std::process::ExitCode;

fn parse_floats(text: &str) -> Result<Vec<f64>, std::num::ParseFloatError> {
    text.split(',').map(|t| t.trim().parse::<f64>()).collect()
}

fn run() -> Result<f64, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let reference = match args.as_slice() {
        [flag, value] if flag == "--ref" => {
            parse_floats(value).map_err(|e| format!("--ref {value:?}: {e}"))?
        }
        _ => return Err("usage: hv --ref R[,R...] < front.csv".into()),
    };
    let mut points = Vec::new();
    for (number, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.map_err(|e| format!("stdin: {e}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let point = parse_floats(&line).map_err(|e| format!("stdin line {}: {e}", number + 1))?;
        points.push(point);
    }
    let dims = points.first().map_or(reference.len(), |p| p.len());
    let reference = if reference.len() == 1 {
        vec![reference[0]; dims]
    } else {
        reference
    };
    mohaq_evo::hypervolume(&points, &reference).map_err(|e| format!("stdin: {e}"))
}

fn main() -> ExitCode {
    match run() {
        Ok(hv) => {
            println!("{hv}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("hv: {message}");
            ExitCode::from(2)
        }
    }
}
