//! `results/REPORT.md`: tables, claims with our figure beside the paper's, SVG plots.

use std::fmt::Write as _;
use std::path::Path;

use crate::hardware::HardwareReport;
use crate::plot::{scatter_svg, Series};
use crate::reproduce::{ModelResults, SearchResult};
use mohaq_beacon::error::RunError;
use mohaq_beacon::fsio::write_atomic;
use mohaq_beacon::run::FrontFile;

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

fn points(
    f: &FrontFile,
    x: impl Fn(&mohaq_beacon::run::FrontSolution) -> Option<f64>,
) -> Vec<(f64, f64)> {
    f.solutions
        .iter()
        .filter_map(|s| Some((x(s)?, s.test_error.unwrap_or(s.score.error))))
        .collect()
}

/// Writes the plots of E1-E3 into `out` and returns their file names.
pub fn write_plots(out: &Path, r: &ModelResults) -> Result<Vec<String>, RunError> {
    let mut names = Vec::new();
    let e1 = "e1_compression.svg";
    scatter_svg(
        &out.join(e1),
        "E1: compression front",
        "size (MB)",
        "test error (%)",
        &[Series {
            label: "search front",
            points: points(&r.compression.front, |s| Some(s.score.cost.size_mb)),
            color: 0,
            hollow: false,
        }],
    )?;
    names.push(e1.to_string());
    let e2 = "e2_silago.svg";
    let mut series = vec![Series {
        label: "search front (test error)",
        points: points(&r.silago.front, |s| s.score.cost.speedup),
        color: 0,
        hollow: false,
    }];
    if let Some(x) = &r.silago_exhaustive {
        series.push(Series {
            label: "true front (search error)",
            points: x.true_front.iter().map(|o| (-o[1], o[0])).collect(),
            color: 1,
            hollow: true,
        });
    }
    scatter_svg(&out.join(e2), "E2: SiLago", "speedup", "error (%)", &series)?;
    names.push(e2.to_string());
    let e3 = "e3_bitfusion.svg";
    scatter_svg(
        &out.join(e3),
        "E3: Bit Fusion",
        "speedup",
        "test error (%)",
        &[
            Series {
                label: "inference-only",
                points: points(&r.bitfusion.front, |s| s.score.cost.speedup),
                color: 0,
                hollow: false,
            },
            Series {
                label: "beacon-based",
                points: points(&r.bitfusion_beacon.front, |s| s.score.cost.speedup),
                color: 2,
                hollow: false,
            },
        ],
    )?;
    names.push(e3.to_string());
    Ok(names)
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
    }
    s.push_str(&front_table("E3: Bit Fusion, inference-only", &r.bitfusion));
    s.push('\n');
    s.push_str(&front_table(
        "E3: Bit Fusion, beacon-based",
        &r.bitfusion_beacon,
    ));
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
