//! Models side by side in one report: `cargo xtask reproduce --beside DIR` reads the
//! `e0_e3_results.json` another run wrote (say, on the small shipped model) and puts its claims
//! and E0 rows next to this run's, so a reader sees how a claim moves with the model.
//!
//! Only the parts that compare are read (unknown fields are ignored), so an older results file
//! still serves as long as it has them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::reproduce::{ClaimRow, ModelResults, PtqRow};
use mohaq_beacon::error::RunError;

/// The file `reproduce_models` writes and this module reads.
pub const RESULTS_FILE: &str = "e0_e3_results.json";

/// What another run's results contribute to the side-by-side tables.
#[derive(Debug, Clone, Deserialize)]
pub struct ResultsDigest {
    pub model: String,
    /// Float error on that run's optimisation subset.
    pub float_error: f64,
    pub fp32_size_mb: f64,
    pub ptq: Vec<PtqRow>,
    pub claims: Vec<ClaimRow>,
    /// Where it was read from (set by [`read_digest`]).
    #[serde(skip)]
    pub source: PathBuf,
}

impl ResultsDigest {
    fn of(results: &ModelResults) -> Self {
        Self {
            model: results.model.clone(),
            float_error: results.float_error,
            fp32_size_mb: results.fp32_size_mb,
            ptq: results.ptq.clone(),
            claims: results.claims.clone(),
            source: PathBuf::new(),
        }
    }
}

/// Reads `dir/e0_e3_results.json` (or `dir` itself when it is the file).
pub fn read_digest(dir: &Path) -> Result<ResultsDigest, RunError> {
    let path = if dir.is_dir() {
        dir.join(RESULTS_FILE)
    } else {
        dir.to_path_buf()
    };
    let text = std::fs::read_to_string(&path).map_err(|source| RunError::Io {
        path: path.clone(),
        action: "reading the results to show beside this run",
        source,
    })?;
    let mut digest: ResultsDigest = serde_json::from_str(&text).map_err(|e| {
        RunError::Invalid(format!(
            "{}: not the E0-E3 results of `cargo xtask reproduce`: {e}",
            path.display()
        ))
    })?;
    digest.source = path;
    Ok(digest)
}

/// The "models side by side" section: claims (paper, then each model) and the E0 rows, matched
/// by the claim's and the configuration's name. Empty when there is nothing beside this run.
pub fn side_by_side_section(this: &ModelResults, beside: &[ResultsDigest]) -> String {
    if beside.is_empty() {
        return String::new();
    }
    let models: Vec<ResultsDigest> = std::iter::once(ResultsDigest::of(this))
        .chain(beside.iter().cloned())
        .collect();
    let mut s = String::from("## Models side by side\n\n");
    for m in &models[1..] {
        let _ = writeln!(s, "`{}` from `{}`.", m.model, m.source.display());
    }
    s.push('\n');
    let header: Vec<String> = models
        .iter()
        .map(|m| format!("ours, `{}`", m.model))
        .collect();
    let _ = writeln!(s, "| claim | paper | {} |", header.join(" | "));
    let _ = writeln!(s, "|---|---|{}", "---|".repeat(models.len()));
    for claim in &this.claims {
        let ours: Vec<String> = models
            .iter()
            .map(|m| {
                m.claims
                    .iter()
                    .find(|c| c.claim == claim.claim)
                    .map_or("—".into(), |c| c.ours.clone())
            })
            .collect();
        let _ = writeln!(
            s,
            "| {} | {} | {} |",
            claim.claim,
            claim.paper,
            ours.join(" | ")
        );
    }
    let _ = writeln!(
        s,
        "\nDefinitions as in the claims table above; each model's limits are relative to its own \
         all-16-bit test PER.\n"
    );
    let _ = writeln!(s, "| E0 config | {} |", header.join(" | "));
    let _ = writeln!(s, "|---|{}", "---|".repeat(models.len()));
    let float: Vec<String> = models
        .iter()
        .map(|m| format!("{:.2} % (optimisation subset)", m.float_error))
        .collect();
    let _ = writeln!(s, "| float | {} |", float.join(" | "));
    for row in &this.ptq {
        let cells: Vec<String> = models
            .iter()
            .map(|m| {
                m.ptq
                    .iter()
                    .find(|p| p.name == row.name)
                    .map_or("—".into(), |p| {
                        format!("{:.2} % test, {:.3} MB", p.test_error, p.size_mb)
                    })
            })
            .collect();
        let _ = writeln!(s, "| {} | {} |", row.name, cells.join(" | "));
    }
    s.push('\n');
    s
}
