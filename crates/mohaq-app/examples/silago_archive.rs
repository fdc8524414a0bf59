//! Evaluates every candidate of the shipped SiLago experiment (E2) on the real SRU and writes the
//! evaluation archive, the input of lookup-based strategy comparisons:
//! `cargo run --release -p mohaq-app --example silago_archive -- OUT.json [EXPERIMENT.toml]`.
//!
//! The candidates within the size limit go first: only they can be on the true front, so once
//! they are done (a line says so) the true front is final, and `e5_lookup` can already run,
//! evaluating the few other candidates it meets. A rerun continues the archive in OUT.json.

use std::path::{Path, PathBuf};

use mohaq_app::search_quality::within_size_limit;
use mohaq_app::sru_model::SruModel;
use mohaq_beacon::limits::ResolvedLimits;
use mohaq_beacon::model::{fp32_size_mb, ErrorModel};
use mohaq_beacon::{Experiment, MohaqProblem};
use mohaq_evo::{exhaustive_front, EvaluationArchive};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(
        args.next()
            .ok_or("usage: silago_archive OUT.json [EXPERIMENT.toml]")?,
    );
    let experiment_path = args
        .next()
        .map_or_else(|| PathBuf::from("experiments/silago.toml"), PathBuf::from);
    let experiment = Experiment::from_file(&experiment_path)?;
    let workspace = Path::new(".");
    let model = SruModel::for_experiment(&experiment, workspace, None)?;
    let platform = experiment
        .platform
        .as_ref()
        .map(mohaq_hw::Platform::from_toml_file)
        .transpose()?;
    let limits = ResolvedLimits::resolve(
        &experiment,
        model.float_error()?,
        fp32_size_mb(model.workload()),
        platform.as_ref(),
    );
    let problem = MohaqProblem::new(&experiment, &model, platform.as_ref(), limits)?;
    let mut archive: EvaluationArchive = std::fs::read_to_string(&out)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let start = std::time::Instant::now();
    let first: Vec<Vec<f64>> = within_size_limit(&problem, 10_000)?
        .into_iter()
        .filter(|g| !archive.contains(g))
        .collect();
    eprintln!("{} candidates within the size limit first", first.len());
    for (k, chunk) in first.chunks(64).enumerate() {
        let results = mohaq_evo::Problem::evaluate_batch(&problem, chunk);
        for (g, r) in chunk.iter().zip(results) {
            archive.insert(g.clone(), r?);
        }
        if k % 8 == 7 {
            std::fs::write(&out, serde_json::to_string(&archive)?)?;
            eprintln!(
                "{}/{} within the size limit after {:.0} s",
                (k + 1) * 64,
                first.len(),
                start.elapsed().as_secs_f64()
            );
        }
    }
    std::fs::write(&out, serde_json::to_string(&archive)?)?;
    eprintln!(
        "all candidates within the size limit done ({} in the archive) after {:.0} s: the true front is final",
        archive.len(),
        start.elapsed().as_secs_f64()
    );
    let front = exhaustive_front(
        &problem,
        &mut archive,
        10_000,
        mohaq_app::exhaustive::LOCAL_CHUNK,
        |done, total, so_far| {
            if done % mohaq_app::exhaustive::LOCAL_CHUNK == 0 {
                eprintln!(
                    "{done}/{total} after {:.0} s",
                    start.elapsed().as_secs_f64()
                );
                if let Ok(text) = serde_json::to_string(so_far) {
                    let _ = std::fs::write(&out, text);
                }
            }
        },
    )?;
    std::fs::write(&out, serde_json::to_string(&archive)?)?;
    eprintln!(
        "{} candidates, true front {} points, {:.0} s",
        archive.len(),
        front.len(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
