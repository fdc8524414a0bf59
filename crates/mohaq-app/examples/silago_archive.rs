//! Evaluates every candidate of the shipped SiLago experiment (E2) on the real SRU and writes the
//! evaluation archive, the input of lookup-based strategy comparisons:
//! `cargo run --release -p mohaq-app --example silago_archive -- OUT.json [EXPERIMENT.toml]`.

use std::path::{Path, PathBuf};

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
