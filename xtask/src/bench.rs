//! `cargo xtask bench`: the engine's speed figures in one place, so a closing note and a newcomer
//! quote the same numbers. It builds mohaq-sru's examples and runs them: evaluation frames/s per
//! model size and width (`eval_candidate`, 32 × 300 synthetic frames), the exhaustive SiLago
//! front with and without prefix reuse (`exhaustive_front`), and training frames/s at paper size
//! (`train_step`). A benchmark, not a test: CI does not run it, and figures on a shared machine
//! drift, so compare runs made side by side.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context};

/// Frames of the synthetic evaluation set (32 utterances × 300 frames).
const EVAL_FRAMES: f64 = 9600.0;
const EVAL_UTTERANCES: f64 = 32.0;

pub fn run(workspace: &Path, skip_exhaustive: bool) -> anyhow::Result<()> {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "-p", "mohaq-sru", "--examples"])
        .current_dir(workspace)
        .status()
        .context("cargo build of the mohaq-sru examples")?;
    if !status.success() {
        bail!("building the mohaq-sru examples failed");
    }
    let examples = workspace.join("target/release/examples");
    let run = |name: &str, args: &[&str]| -> anyhow::Result<String> {
        let out = Command::new(examples.join(name))
            .args(args)
            .current_dir(workspace)
            .output()
            .with_context(|| format!("running example {name}"))?;
        if !out.status.success() {
            bail!(
                "example {name} {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    println!("evaluation of one candidate (32 x 300 frames, 117 classes, mean of 3):");
    for model in ["sru-default", "sru-paper"] {
        for bits in ["8", "4"] {
            let out = run("eval_candidate", &[model, bits, "3"])?;
            let seconds = number_before(&out, " s per evaluation")
                .with_context(|| format!("eval_candidate output: {out}"))?;
            println!(
                "  {model} w{bits}: {seconds:.3} s, {:.0} frames/s, {:.1} ms per utterance",
                EVAL_FRAMES / seconds,
                1000.0 * seconds / EVAL_UTTERANCES
            );
        }
    }
    if skip_exhaustive {
        println!("exhaustive SiLago front: skipped (--skip-exhaustive)");
    } else {
        let out = run("exhaustive_front", &["sru-default", "20"])?;
        println!("exhaustive SiLago front (6,561 candidates, same synthetic set):");
        println!("  {}", out.trim());
    }
    let out = run("train_step", &["models/sru-paper.toml", "3", "8", "300"])?;
    let fps = number_before(&out, " frames/s").with_context(|| format!("train_step: {out}"))?;
    println!("training step, paper size (1904 classes, 8 x 300 frames): {fps:.0} frames/s");
    Ok(())
}

/// The number that ends right before `marker` in `text`.
fn number_before(text: &str, marker: &str) -> Option<f64> {
    let end = text.find(marker)?;
    let start = text[..end]
        .rfind(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map_or(0, |i| i + 1);
    text[start..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::number_before;

    #[test]
    fn reads_the_figure_before_its_unit() {
        let line = "sru-paper bits 8,8: 0.334 s per evaluation (mean of 3)";
        assert_eq!(number_before(line, " s per evaluation"), Some(0.334));
        assert_eq!(number_before("1265 frames/s", " frames/s"), Some(1265.0));
        assert_eq!(number_before("no figure", " frames/s"), None);
    }
}
