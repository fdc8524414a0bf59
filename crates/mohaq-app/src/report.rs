//! `results/REPORT.md`: tables, claims with our figure beside the paper's, SVG plots.

use std::fmt::Write as _;
use std::path::Path;

use crate::hardware::HardwareReport;
use crate::plot::{front_svg, Goal, Marker, Series};
use crate::reproduce::{ModelResults, SearchResult};
use crate::search_quality::{comparison_markdown, write_comparison_plot};
use mohaq_beacon::error::RunError;
use mohaq_beacon::fsio::write_atomic;
use mohaq_beacon::run::FrontFile;
use mohaq_evo::{reference_point, FrontQuality};

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or("–".into(), |x| format!("{x:.digits$}"))
}

/// The E4 section.
pub fn hardware_section(h: &HardwareReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "## E4: hardware models on the paper's workload\n");
    let _ = writeln!(
        s,
        "Paper SRU workload (METHOD §3), FP32 size {:.2} MB (paper: 21.2). Uniform widths, every layer \
         (FC input included) at the width. Speedups: the paper's MAC-weighted formula; the physical \
         latency ratio beside it.\n",
        h.fp32_size_mb
    );
    let _ = writeln!(s, "| bits | size MB (paper) | compression | SiLago speedup (paper) | SiLago physical | SiLago energy µJ (paper) | Bit Fusion speedup (paper) | Bit Fusion physical | Bit Fusion bf_e cycle-level |");
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|");
    for r in &h.uniform {
        let _ = writeln!(
            s,
            "| {} | {:.2} ({}) | {:.1}x | {} ({}) | {} | {} ({}) | {:.4} ({}) | {:.3} | {} |",
            r.bits,
            r.size_mb,
            opt(r.paper_size_mb, 2),
            r.compression,
            opt(r.silago_speedup, 4),
            opt(r.paper_silago_speedup, 4),
            opt(r.silago_speedup_physical, 3),
            opt(r.silago_energy_uj, 3),
            opt(r.paper_silago_energy_uj, 3),
            r.bitfusion_speedup,
            opt(r.paper_bitfusion_speedup, 4),
            r.bitfusion_speedup_physical,
            opt(r.bitfusion_sim_speedup, 2),
        );
    }
    let c = &h.reference;
    let _ = writeln!(
        s,
        "\nBit Fusion cycle-level model against the reference simulator (spec/reference/bitfusion_fc.csv): \
         {} rows, {} exact (every counter, tiling, energy within 1e-9), {} equal-cost ties (cycles and energy \
         equal, another tiling), {} mismatches; largest relative energy error {:.2e}.\n",
        c.rows,
        c.exact,
        c.tie,
        c.mismatches.len(),
        c.max_energy_rel_error
    );
    for m in &c.mismatches {
        let _ = writeln!(s, "- {m}");
    }
    s
}

fn front_table(title: &str, r: &SearchResult) -> String {
    let f = &r.front;
    let mut s = String::new();
    let _ = writeln!(s, "### {title}\n");
    let _ = writeln!(
        s,
        "Experiment `{}` on model `{}`{}; {} evaluations in {} generations ({} wall time in this run). Limits: error ≤ {:.2} % ({}){}.\n",
        f.experiment,
        f.model,
        f.platform.as_ref().map_or(String::new(), |p| format!(", platform `{p}`")),
        f.n_evaluations,
        f.generations,
        duration(r.seconds),
        f.limits.max_error.value,
        f.limits.max_error.origin,
        f.limits
            .max_size_mb
            .as_ref()
            .map_or(String::new(), |l| format!(", size ≤ {:.3} MB ({})", l.value, l.origin)),
    );
    if !f.beacons.is_empty() {
        let _ = writeln!(
            s,
            "Beacons: {}.\n",
            f.beacons
                .iter()
                .map(|b| format!(
                    "#{} {} ({})",
                    b.index,
                    b.bits.display_genes(),
                    if b.reused_from_store {
                        "reused"
                    } else {
                        "retrained"
                    }
                ))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    let _ = writeln!(
        s,
        "| # | genes | search error % | test error % | size MB | speedup | energy µJ | beacon |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|");
    for x in &f.solutions {
        let _ = writeln!(
            s,
            "| {} | {} | {:.2} | {} | {:.3} | {} | {} | {} |",
            x.index,
            table_cell(&x.genes_display),
            x.score.error,
            opt(x.test_error, 2),
            x.score.cost.size_mb,
            opt(x.score.cost.speedup, 2),
            opt(x.score.cost.energy_uj, 3),
            x.score.beacon.map_or("–".into(), |b| b.to_string()),
        );
    }
    s
}

/// Which error a plot's y axis shows: one kind per axis, never a mix.
#[derive(Clone, Copy)]
enum ErrorKind {
    /// PER on the test split (thresholds frozen); solutions without one are left out.
    Test,
    /// PER on the optimisation subset, the error the search minimised.
    Search,
}

fn points(
    f: &FrontFile,
    x: impl Fn(&mohaq_beacon::run::FrontSolution) -> Option<f64>,
    kind: ErrorKind,
) -> Vec<(f64, f64)> {
    f.solutions
        .iter()
        .filter_map(|s| {
            let y = match kind {
                ErrorKind::Test => s.test_error?,
                ErrorKind::Search => s.score.error,
            };
            Some((x(s)?, y))
        })
        .collect()
}

/// The lowest y of a step line at `x` or more (speedup fronts).
fn best_at_or_above(points: &[(f64, f64)], x: f64) -> Option<f64> {
    points
        .iter()
        .filter(|p| p.0 >= x - 1e-12)
        .map(|p| p.1)
        .min_by(f64::total_cmp)
}

/// The plot of one run's final front (`mohaq report`): error against speedup where the platform
/// has one, else against size; test PER when every solution has one, else the search's error,
/// and the axis says which.
pub fn front_plot(front: &FrontFile, svg: &Path) -> Result<(), RunError> {
    let speedup = front
        .solutions
        .iter()
        .any(|s| s.score.cost.speedup.is_some());
    let kind = if front.solutions.iter().all(|s| s.test_error.is_some()) {
        ErrorKind::Test
    } else {
        ErrorKind::Search
    };
    let y_label = match kind {
        ErrorKind::Test => "test PER (%), thresholds frozen",
        ErrorKind::Search => "PER on the optimisation subset (%)",
    };
    let (x_axis, goal, pts) = if speedup {
        (
            ("speedup over the 16-bit model (×)", "×"),
            Goal::MaximiseX,
            points(front, |s| s.score.cost.speedup, kind),
        )
    } else {
        (
            ("model size (MB)", ""),
            Goal::MinimiseX,
            points(front, |s| Some(s.score.cost.size_mb), kind),
        )
    };
    front_svg(
        svg,
        &front.experiment,
        x_axis,
        y_label,
        &[Series {
            label: "final front",
            points: pts,
            color: 0,
            hollow: false,
            step: Some(goal),
        }],
        &[],
    )
}

/// Writes the plots of E1-E3 into `out` and returns their file names.
pub fn write_plots(out: &Path, r: &ModelResults) -> Result<Vec<String>, RunError> {
    const TEST_PER: &str = "test PER (%), thresholds frozen";
    const SPEEDUP: (&str, &str) = ("speedup over the 16-bit model (×)", "×");
    let mut names = Vec::new();
    let e1 = "e1_compression.svg";
    front_svg(
        &out.join(e1),
        "E1: compression front",
        ("model size (MB)", ""),
        TEST_PER,
        &[Series {
            label: "search front",
            points: points(
                &r.compression.front,
                |s| Some(s.score.cost.size_mb),
                ErrorKind::Test,
            ),
            color: 0,
            hollow: false,
            step: Some(Goal::MinimiseX),
        }],
        &[],
    )?;
    names.push(e1.to_string());
    let e2 = "e2_silago.svg";
    // The true front is known only in the search's own error, so both are drawn in it.
    let mut series = vec![Series {
        label: "search front",
        points: points(&r.silago.front, |s| s.score.cost.speedup, ErrorKind::Search),
        color: 0,
        hollow: false,
        step: Some(Goal::MaximiseX),
    }];
    if let Some(x) = &r.silago_exhaustive {
        series.push(Series {
            label: "true front (exhaustive)",
            points: x.true_front.iter().map(|o| (-o[1], o[0])).collect(),
            color: 1,
            hollow: true,
            step: Some(Goal::MaximiseX),
        });
    }
    front_svg(
        &out.join(e2),
        "E2: SiLago (error vs speedup; energy not shown)",
        SPEEDUP,
        "PER on the optimisation subset (%)",
        &series,
        &[],
    )?;
    names.push(e2.to_string());
    let e3 = "e3_bitfusion.svg";
    let inference = points(
        &r.bitfusion.front,
        |s| s.score.cost.speedup,
        ErrorKind::Test,
    );
    let beacon = points(
        &r.bitfusion_beacon.front,
        |s| s.score.cost.speedup,
        ErrorKind::Test,
    );
    // The claim's gap, where it is measured (the same definition as the claims table).
    let markers: Vec<Marker> =
        crate::reproduce::beacon_gain_reduction(&r.bitfusion.front, &r.bitfusion_beacon.front)
            .and_then(|(gap, at)| {
                let (io, bb) = (
                    best_at_or_above(&inference, at)?,
                    best_at_or_above(&beacon, at)?,
                );
                Some(Marker {
                    from: (at, bb),
                    to: (at, io),
                    label: format!("gap {gap:.1} pp at ≥ {at:.1}×"),
                })
            })
            .into_iter()
            .collect();
    front_svg(
        &out.join(e3),
        "E3: Bit Fusion",
        SPEEDUP,
        TEST_PER,
        &[
            Series {
                label: "inference-only",
                points: inference,
                color: 0,
                hollow: false,
                step: Some(Goal::MaximiseX),
            },
            Series {
                label: "beacon-based",
                points: beacon,
                color: 2,
                // Hollow, so that solutions both fronts share stay visible.
                hollow: true,
                step: Some(Goal::MaximiseX),
            },
        ],
        &markers,
    )?;
    names.push(e3.to_string());
    for c in &r.search_quality {
        let name = format!("e5_{}.svg", c.experiment);
        write_comparison_plot(&out.join(&name), c)?;
        names.push(name);
    }
    Ok(names)
}

/// Hypervolume, its ratio, recall and IGD of `front` against `reference_front`, as a sentence.
fn quality_sentence(front: &[Vec<f64>], reference_front: &[Vec<f64>], against: &str) -> String {
    let measured = reference_point(reference_front).and_then(|point| {
        FrontQuality::measure(front, reference_front, &point).map(|q| (q, point))
    });
    match measured {
        Ok((q, point)) => format!(
            "Hypervolume {:.4}, {:.4} of the {against}'s; {} of its {} points found; IGD {}              (reference point {:?}: the {against}'s nadir + 10 % of its range).",
            q.hypervolume,
            q.hv_ratio,
            q.recovered,
            q.reference_size,
            opt(q.igd, 4),
            point.iter().map(|x| (x * 1e4).round() / 1e4).collect::<Vec<_>>()
        ),
        Err(e) => format!("No indicators ({e})."),
    }
}

/// The non-dominated points of several fronts together: the reference where no exhaustive
/// front exists.
fn union_front(fronts: &[&[Vec<f64>]]) -> Vec<Vec<f64>> {
    let mut union = mohaq_evo::ParetoArchive::new();
    for p in fronts.iter().flat_map(|f| f.iter()) {
        union.insert(p.clone(), ());
    }
    union.points()
}

/// A search's front as (error, size) points: E1's objectives.
fn error_size(r: &SearchResult) -> Vec<Vec<f64>> {
    r.front
        .solutions
        .iter()
        .map(|x| vec![x.score.error, x.score.cost.size_mb])
        .collect()
}

/// A search's front as (error, −speedup) points: E3's objectives.
fn error_speedup(r: &SearchResult) -> Vec<Vec<f64>> {
    r.front
        .solutions
        .iter()
        .map(|x| vec![x.score.error, -x.score.cost.speedup.unwrap_or(0.0)])
        .collect()
}

/// E1's indicators: the paper's and the default search's fronts against their union.
fn compression_quality(r: &ModelResults) -> String {
    let paper = error_size(&r.compression);
    let Some(default) = r.compression_default.as_ref() else {
        return String::new();
    };
    let default_front = error_size(default);
    let union = union_front(&[&paper, &default_front]);
    let against = "union of the E1 fronts of both searches (no exhaustive front)";
    format!(
        "\nIndicators (objectives search error, size MB). Paper's NSGA-II: {}\n\nDefault search          (same budget, `{}`, {} evaluations): {}\n",
        quality_sentence(&paper, &union, against),
        default.run_dir.display(),
        default.front.n_evaluations,
        quality_sentence(&default_front, &union, against)
    )
}

/// Beacon-based E3's indicators: against the union of every Bit Fusion front (inference-only
/// E3, beacon-based E3 and E5's), objectives search error and −speedup.
fn beacon_quality(r: &ModelResults) -> String {
    let beacon = error_speedup(&r.bitfusion_beacon);
    let inference = error_speedup(&r.bitfusion);
    let e5: &[Vec<f64>] = bitfusion_comparison(r).map_or(&[], |c| c.reference_front.as_slice());
    let union = union_front(&[&beacon, &inference, e5]);
    let epochs = r.beacon_epochs.map_or(String::new(), |n| {
        format!(
            "\nEach beacon was retrained for {n} QAT epoch{} (`[beacons] epochs`; the authors \
             retrained for {}).\n",
            if n == 1 { "" } else { "s" },
            crate::paper::BEACON_EPOCHS
        )
    });
    format!(
        "{epochs}\nIndicators (objectives search error, −speedup): {}\n",
        quality_sentence(
            &beacon,
            &union,
            "union of the E3 inference-only, E3 beacon-based and E5 Bit Fusion fronts (no exhaustive front)"
        )
    )
}

/// E5 on Bit Fusion, when it ran (`--model` runs leave it out by default).
fn bitfusion_comparison(r: &ModelResults) -> Option<&crate::search_quality::Comparison> {
    r.search_quality
        .iter()
        .find(|c| c.experiment == r.bitfusion.front.experiment)
}

/// The E5 section.
fn search_quality_section(r: &ModelResults) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "\n## E5: how good is the search?\n");
    let _ = writeln!(
        s,
        "Each strategy at each evaluation budget (mohaq-evo `strategy`): random search, NSGA-II \
         with the paper's settings, NSGA-II seeded with uniform configurations and knapsack optima, \
         the refined search (that seeding, then NSGA-II generations interleaved with local \
         refinement around the front), the default surrogate-assisted search (the error \
         predicted by an additive model with a kriging correction, the hardware objectives \
         exact, each batch the one of largest expected hypervolume gain), AMP-style greedy \
         descent and the HAWQ-V3-style knapsack. Stochastic methods: one run per seed at the largest budget, \
         whose first evaluations are exactly the smaller budgets' runs. SiLago reads E2's \
         exhaustive archive (a lookup, exact); Bit Fusion evaluates the model through one \
         shared cache.\n"
    );
    for c in &r.search_quality {
        let _ = writeln!(s, "### E5: {}\n", c.experiment);
        s.push_str(&comparison_markdown(c));
    }
    if bitfusion_comparison(r).is_none() {
        let _ = writeln!(
            s,
            "\nE5 on Bit Fusion was not run for this model: its strategies make tens of thousands \
             of real PTQ evaluations, hours for a large model on 2 cores (`cargo xtask reproduce \
             --bitfusion-e5` runs it). The comparison of search methods is a property of the \
             search: see it on the shipped model's report.\n"
        );
    }
    s
}

/// The sections of E0-E3 and the claims.
pub fn model_sections(r: &ModelResults, plots: &[String]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "## Paper claims (METHOD §2)\n");
    let _ = writeln!(s, "| claim | paper | ours | definition used |");
    let _ = writeln!(s, "|---|---|---|---|");
    for c in &r.claims {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            c.claim, c.paper, c.ours, c.definition
        );
    }
    let _ = writeln!(
        s,
        "\nModel `{}`: float error on the optimisation subset {:.2} %, FP32 size {:.3} MB. Limits given \
         relative to the model are resolved against these (see each experiment).\n",
        r.model, r.float_error, r.fp32_size_mb
    );
    if let Some(note) = &r.error_note {
        let _ = writeln!(s, "Error measure: {note}.\n");
    }
    let _ = writeln!(s, "Hardware: {}.\n", r.workload_note);
    let _ = writeln!(s, "## E0: post-training quantization\n");
    let _ = writeln!(
        s,
        "| config | genes | test error % | size MB | compression |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|");
    for p in &r.ptq {
        let _ = writeln!(
            s,
            "| {} | {} | {:.2} | {:.3} | {:.1}x |",
            p.name,
            table_cell(&p.genes),
            p.test_error,
            p.size_mb,
            p.compression
        );
    }
    let _ = writeln!(s, "\n## E1-E3: searches\n");
    s.push_str(&front_table("E1: compression", &r.compression));
    s.push_str(&compression_quality(r));
    s.push('\n');
    s.push_str(&front_table("E2: SiLago", &r.silago));
    if let Some(x) = &r.silago_exhaustive {
        let _ = writeln!(
            s,
            "\nExhaustive: {} candidates evaluated ({} wall time in this run); true front {} points; the search recovered {} of them; IGD {}.\n",
            x.candidates,
            duration(x.seconds),
            x.true_front.len(),
            x.recovered,
            opt(x.igd, 4)
        );
        let _ = writeln!(
            s,
            "{}\n",
            quality_sentence(&x.search_front, &x.true_front, "true front")
        );
    }
    s.push_str(&front_table("E3: Bit Fusion, inference-only", &r.bitfusion));
    if let Some(c) = r
        .search_quality
        .iter()
        .find(|c| c.experiment == r.bitfusion.front.experiment)
    {
        let front: Vec<Vec<f64>> = r
            .bitfusion
            .front
            .solutions
            .iter()
            .map(|x| vec![x.score.error, -x.score.cost.speedup.unwrap_or(0.0)])
            .collect();
        let _ = writeln!(
            s,
            "\n{}",
            quality_sentence(&front, &c.reference_front, "E5 union front")
        );
    }
    s.push('\n');
    s.push_str(&front_table(
        "E3: Bit Fusion, beacon-based",
        &r.bitfusion_beacon,
    ));
    s.push_str(&beacon_quality(r));
    s.push_str(&search_quality_section(r));
    let _ = writeln!(s, "\n## Plots\n");
    for p in plots {
        let _ = writeln!(s, "![{p}]({p})");
    }
    s
}

/// Writes REPORT.md into `out`.
pub fn write_report(
    out: &Path,
    quick: bool,
    hardware: &HardwareReport,
    model: Option<&ModelResults>,
    beside: &[crate::model_comparison::ResultsDigest],
) -> Result<(), RunError> {
    let mut s = String::from("# MOHAQ reproduction report\n\n");
    let _ = writeln!(
        s,
        "Generated by `cargo xtask reproduce{}`{}. Raw results: the JSON files next to this report.\n",
        if quick { " --quick" } else { "" },
        if quick { " (quick: small budgets, same code paths; not the paper's budgets)" } else { "" }
    );
    if quick {
        let _ = writeln!(
            s,
            "Quick settings: NSGA-II population ≤ {}, ≤ {} offspring, ≤ {} generations; optimisation \
             subset = first {} dev utterances, test = first {} test utterances; E2 searches widths \
             {:?} only ({} candidates, so its exhaustive front is {} evaluations, not 6,561) on the \
             first {} dev utterances; beacons: ≤ 2, 1 QAT epoch, retrained on the TIMIT sample \
             only (no Kathleen).\n",
            crate::reproduce::QUICK_POP_SIZE,
            crate::reproduce::QUICK_OFFSPRINGS,
            crate::reproduce::QUICK_GENERATIONS,
            crate::reproduce::QUICK_DEV_UTTERANCES,
            crate::reproduce::QUICK_TEST_UTTERANCES,
            crate::reproduce::QUICK_SILAGO_WIDTHS,
            1usize << 8,
            1usize << 8,
            crate::reproduce::QUICK_SILAGO_DEV_UTTERANCES,
        );
    }
    match model {
        Some(r) => {
            let plots = write_plots(out, r)?;
            s.push_str(&model_sections(r, &plots));
            s.push_str(&crate::model_comparison::side_by_side_section(r, beside));
        }
        None => s.push_str("E0-E3 were not run (hardware only).\n\n"),
    }
    s.push_str(&hardware_section(hardware));
    let path = out.join("REPORT.md");
    write_atomic(&path, s.as_bytes()).map_err(|source| RunError::Io {
        path,
        action: "writing the report",
        source,
    })
}

/// Escapes the `|` that separates gene groups so a gene string stays in one Markdown table cell.
/// `1 h 02 min`, `3 min 07 s`, `12 s`.
fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match (s / 3600, s % 3600 / 60, s % 60) {
        (0, 0, sec) => format!("{sec} s"),
        (0, min, sec) => format!("{min} min {sec:02} s"),
        (h, min, _) => format!("{h} h {min:02} min"),
    }
}

fn table_cell(text: &str) -> String {
    text.replace('|', "\\|")
}

#[cfg(test)]
mod table_cell_tests {
    #[test]
    fn durations_read_naturally() {
        assert_eq!(super::duration(12.4), "12 s");
        assert_eq!(super::duration(187.0), "3 min 07 s");
        assert_eq!(super::duration(3720.0), "1 h 02 min");
    }

    #[test]
    fn gene_groups_do_not_split_table_cells() {
        assert_eq!(super::table_cell("16,2 | 4,4"), "16,2 \\| 4,4");
    }
}
