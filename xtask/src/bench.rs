//! `cargo xtask bench`: the engine's speed figures in one place, so a closing note and a newcomer
//! quote the same numbers. It builds the workspace's binaries and examples and runs them:
//! evaluation frames/s per model size and width (`eval_candidate`, 32 × 300 synthetic frames),
//! the exhaustive SiLago front with and without prefix reuse on that set (`exhaustive_front`),
//! the same front through the real path (`mohaq exhaustive` on the shipped model and E2's dev
//! subset), the layer-output cache's hit rate in a short real search (`mohaq search
//! --max-evaluations`), and training frames/s at paper size (`train_step`), with peak memory
//! where `/usr/bin/time` can measure it. A benchmark, not a test: CI does not run it, and
//! figures on a shared machine drift, so compare runs made side by side.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context};

/// Frames of the synthetic evaluation set (32 utterances × 300 frames).
const EVAL_FRAMES: f64 = 9600.0;
const EVAL_UTTERANCES: f64 = 32.0;

pub fn run(workspace: &Path, skip_exhaustive: bool) -> anyhow::Result<()> {
    // The whole workspace: building one package alone changes candle's features.
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--workspace", "--bins", "--examples"])
        .current_dir(workspace)
        .status()
        .context("cargo build of the workspace's binaries and examples")?;
    if !status.success() {
        bail!("building the workspace's binaries and examples failed");
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
        real_exhaustive(workspace)?;
    }
    real_search(workspace)?;
    let out = run("train_step", &["models/sru-paper.toml", "3", "8", "300"])?;
    let fps = number_before(&out, " frames/s").with_context(|| format!("train_step: {out}"))?;
    println!("training step, paper size (1904 classes, 8 x 300 frames): {fps:.0} frames/s");
    Ok(())
}

/// `mohaq ARGS` in the workspace (under `/usr/bin/time -v` where it exists): stdout, stderr and
/// the peak resident set in MiB if measured.
fn mohaq(workspace: &Path, args: &[&str]) -> anyhow::Result<(String, String, Option<f64>)> {
    let binary = workspace.join("target/release/mohaq");
    let time = Path::new("/usr/bin/time");
    let mut command = if time.is_file() {
        let mut c = Command::new(time);
        c.arg("-v").arg(&binary);
        c
    } else {
        Command::new(&binary)
    };
    let out = command
        .args(args)
        .current_dir(workspace)
        .output()
        .with_context(|| format!("running mohaq {args:?}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        bail!("mohaq {args:?} failed: {stderr}");
    }
    let peak_kib = stderr
        .lines()
        .find(|l| l.contains("Maximum resident set size"))
        .and_then(|l| l.rsplit(':').next()?.trim().parse::<f64>().ok());
    Ok((
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
        peak_kib.map(|k| k / 1024.0),
    ))
}

fn peak(mib: Option<f64>) -> String {
    mib.map_or("peak RSS not measured".into(), |m| {
        format!("peak RSS {m:.0} MiB")
    })
}

/// The E2 exhaustive front on the shipped model, with prefix reuse (the path `cargo xtask
/// reproduce` takes).
fn real_exhaustive(workspace: &Path) -> anyhow::Result<()> {
    let out_dir =
        std::env::temp_dir().join(format!("mohaq-bench-exhaustive-{}", std::process::id()));
    let out_arg = out_dir.display().to_string();
    let start = std::time::Instant::now();
    let (stdout, _, mib) = mohaq(
        workspace,
        &[
            "exhaustive",
            "--experiment",
            "experiments/silago.toml",
            "--out",
            &out_arg,
        ],
    )?;
    let wall = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&out_dir);
    println!(
        "exhaustive SiLago front, real path (`mohaq exhaustive`, shipped model, E2 dev subset): \
         {wall:.1} s wall including loading, {}",
        peak(mib)
    );
    println!("  {}", stdout.trim());
    Ok(())
}

/// Evaluations of the short search whose cache hit rate is reported.
const SEARCH_EVALUATIONS: &str = "120";

/// A short Bit Fusion search on the shipped model: the layer-output cache's hit rate.
fn real_search(workspace: &Path) -> anyhow::Result<()> {
    let out_dir = std::env::temp_dir().join(format!("mohaq-bench-search-{}", std::process::id()));
    let out_arg = out_dir.display().to_string();
    let start = std::time::Instant::now();
    let (_, _, mib) = mohaq(
        workspace,
        &[
            "search",
            "--experiment",
            "experiments/bitfusion.toml",
            "--max-evaluations",
            SEARCH_EVALUATIONS,
            "--out",
            &out_arg,
        ],
    )?;
    let wall = start.elapsed().as_secs_f64();
    let front = mohaq_beacon::FrontFile::load(&out_dir);
    let _ = std::fs::remove_dir_all(&out_dir);
    let front = front.context("the bench search's front.json")?;
    println!(
        "search, Bit Fusion, {SEARCH_EVALUATIONS} evaluations (`mohaq search --max-evaluations`): \
         {wall:.1} s wall, {}",
        peak(mib)
    );
    match front.layer_reuse {
        Some(r) => println!("  {}", r.describe()),
        None => println!("  no layer-output cache (cache_mb = 0)"),
    }
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
