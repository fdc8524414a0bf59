//! `mohaq report`: print the final front of a search run and draw it as SVG.

use std::path::PathBuf;

use mohaq_beacon::FrontFile;

/// Arguments of `mohaq report`.
#[derive(clap::Args)]
pub struct Args {
    /// Run directory written by `mohaq search`.
    run_dir: PathBuf,
    /// Print the front as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let front = FrontFile::load(&args.run_dir)?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&front)?);
        return Ok(());
    }
    outln!(
        "{} ({:?}) on {}{}: {} evaluations, {} generations{}",
        front.experiment,
        front.kind,
        front.model,
        front
            .platform
            .as_ref()
            .map_or(String::new(), |p| format!(" / {p}")),
        front.n_evaluations,
        front.generations,
        if front.completed {
            ""
        } else {
            " (stopped early)"
        }
    );
    outln!(
        "limits: error ≤ {:.2} ({}){}",
        front.limits.max_error.value,
        front.limits.max_error.origin,
        front
            .limits
            .max_size_mb
            .as_ref()
            .map_or(String::new(), |l| format!(
                ", size ≤ {:.3} MB ({})",
                l.value, l.origin
            ))
    );
    outln!(
        "{:>3}  {:<44} {:>8} {:>8} {:>8} {:>8} {:>9} {:>6}",
        "#",
        "genes",
        "error",
        "test",
        "MB",
        "speedup",
        "energy",
        "beacon"
    );
    for s in &front.solutions {
        let f = |v: Option<f64>, d: usize| v.map_or("-".into(), |x| format!("{x:.d$}"));
        outln!(
            "{:>3}  {:<44} {:>8.2} {:>8} {:>8.3} {:>8} {:>9} {:>6}",
            s.index,
            s.genes_display,
            s.score.error,
            f(s.test_error, 2),
            s.score.cost.size_mb,
            f(s.score.cost.speedup, 2),
            f(s.score.cost.energy_uj, 3),
            s.score.beacon.map_or("-".into(), |b| b.to_string())
        );
    }
    let svg = args.run_dir.join("front.svg");
    mohaq_app::report::front_plot(&front, &svg)?;
    outln!("plot: {}", svg.display());
    Ok(())
}
