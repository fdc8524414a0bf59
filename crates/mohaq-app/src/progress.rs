//! Progress of long steps (search generations, the exhaustive front): an indicatif bar with an
//! ETA on a terminal, plain lines when stderr is redirected (a log file gets a line per step at
//! most every [`LINE_INTERVAL`], never a bar's control codes).
//!
//! The `mohaq` binary and `cargo xtask` share it, so both report progress the same way.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use mohaq_evo::{Control, EvaluationArchive, GenerationReport, Observer};

/// Least time between two plain progress lines (the last step always gets one).
pub const LINE_INTERVAL: Duration = Duration::from_secs(10);

/// A counted step: `done` of `total` units, with a message.
pub struct Progress {
    label: String,
    bar: Option<ProgressBar>,
    start: Instant,
    last_line: Option<Instant>,
    last_done: u64,
}

impl Progress {
    /// A bar on a terminal, plain lines otherwise.
    pub fn new(label: &str, total: u64) -> Self {
        Self::with_terminal(label, total, std::io::stderr().is_terminal())
    }

    /// As [`Self::new`], choosing the kind explicitly (tests).
    pub fn with_terminal(label: &str, total: u64, terminal: bool) -> Self {
        let bar = terminal.then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(&format!(
                    "{label} {{elapsed_precise}} [{{bar:30}}] {{pos}}/{{len}} {{msg}} (ETA {{eta}})"
                ))
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            // The first step (e.g. the initial population) can take minutes: keep the clock moving.
            bar.enable_steady_tick(Duration::from_millis(500));
            bar
        });
        Self {
            label: label.to_string(),
            bar,
            start: Instant::now(),
            last_line: None,
            last_done: 0,
        }
    }

    /// Reports `done` of `total`; returns the plain line written, if any (tests). A count
    /// that goes back starts a new run of the step (`cargo xtask` runs several searches).
    pub fn set(&mut self, done: u64, total: u64, message: &str) -> Option<String> {
        if done < self.last_done {
            self.start = Instant::now();
            self.last_line = None;
            if let Some(bar) = &self.bar {
                bar.reset();
            }
        }
        self.last_done = done;
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.set_position(done);
            bar.set_message(message.to_string());
            return None;
        }
        let now = Instant::now();
        let due = self
            .last_line
            .is_none_or(|last| now.duration_since(last) >= LINE_INTERVAL);
        if !(due || done >= total) {
            return None;
        }
        self.last_line = Some(now);
        let line = format!(
            "{} {done}/{total}: {message}{}",
            self.label,
            eta(self.start.elapsed(), done, total)
        );
        eprintln!("{line}");
        Some(line)
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}

/// ", 12 s elapsed, ETA 3 min" from the rate so far.
fn eta(elapsed: Duration, done: u64, total: u64) -> String {
    let secs = elapsed.as_secs_f64();
    if done == 0 || done >= total {
        return format!(", {} elapsed", human(secs));
    }
    let left = secs / done as f64 * (total - done) as f64;
    format!(", {} elapsed, ETA {}", human(secs), human(left))
}

fn human(secs: f64) -> String {
    if secs < 90.0 {
        format!("{secs:.0} s")
    } else if secs < 5400.0 {
        format!("{:.0} min", secs / 60.0)
    } else {
        format!("{:.1} h", secs / 3600.0)
    }
}

/// Search progress per generation: evaluations, feasible members, front size.
pub struct GenerationProgress(pub Progress, Option<usize>);

impl GenerationProgress {
    pub fn new(n_gen: usize) -> Self {
        Self(Progress::new("generation", n_gen as u64), None)
    }

    /// Progress of the default search, whose reports are evaluation batches: evaluations made
    /// of the budget.
    pub fn batches() -> Self {
        Self(Progress::new("evaluations", 0), None)
    }

    /// Progress of a search stopped by an evaluation budget (`--max-evaluations`): evaluations
    /// made of `budget`, so the ETA is that of the budget, not of the experiment's `n_gen`.
    pub fn evaluations(budget: usize) -> Self {
        Self(Progress::new("evaluations", budget as u64), Some(budget))
    }
}

impl GenerationProgress {
    /// What the bar counts for a report: (done, total).
    fn counts(&self, r: &GenerationReport) -> (usize, usize) {
        if self.0.label == "evaluations" {
            (r.n_evaluations, self.1.unwrap_or(r.n_gen))
        } else {
            (r.generation, r.n_gen)
        }
    }
}

impl Observer for GenerationProgress {
    fn on_generation(&mut self, r: &GenerationReport) -> Control {
        let (done, total) = self.counts(r);
        self.0.set(
            done as u64,
            total as u64,
            &format!(
                "{} evaluations ({} cached this generation), {} feasible, front {}",
                r.n_evaluations, r.cache_hits, r.feasible, r.front_size
            ),
        );
        Control::Continue
    }
}

/// Progress of an exhaustive enumeration (`mohaq exhaustive`): candidates evaluated, how many
/// are feasible, the size of the front so far.
pub struct CandidateProgress(pub Progress);

impl CandidateProgress {
    pub fn new() -> Self {
        Self(Progress::new("candidates", 0))
    }

    /// After each chunk of `done` of `total` candidates; returns the plain line, if any.
    pub fn update(
        &mut self,
        done: usize,
        total: usize,
        archive: &EvaluationArchive,
    ) -> Option<String> {
        let feasible = archive
            .records()
            .iter()
            .filter(|r| r.evaluation.is_feasible())
            .count();
        let front = archive.pareto_front().len();
        self.0.set(
            done as u64,
            total as u64,
            &format!("{feasible} feasible, front {front}"),
        )
    }
}

impl Default for CandidateProgress {
    fn default() -> Self {
        Self::new()
    }
}

/// Stops a search after the first generation that ends past a wall-time budget (the front so
/// far is written and the checkpoint lets a rerun continue), then defers to the inner observer.
pub struct TimeBudget<'a> {
    start: Instant,
    seconds: Option<f64>,
    inner: &'a mut dyn Observer,
}

impl<'a> TimeBudget<'a> {
    /// `seconds = None` never stops the search.
    pub fn new(seconds: Option<f64>, inner: &'a mut dyn Observer) -> Self {
        Self {
            start: Instant::now(),
            seconds,
            inner,
        }
    }
}

impl Observer for TimeBudget<'_> {
    fn on_generation(&mut self, r: &GenerationReport) -> Control {
        let inner = self.inner.on_generation(r);
        match self.seconds {
            Some(s) if self.start.elapsed().as_secs_f64() >= s => Control::Stop,
            _ => inner,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_are_rate_limited_but_the_last_step_always_shows() {
        let mut p = Progress::with_terminal("front", 100, false);
        let first = p.set(1, 100, "x").expect("the first step prints");
        assert!(first.starts_with("front 1/100: x, "), "{first}");
        assert!(first.contains("ETA"), "{first}");
        assert_eq!(p.set(2, 100, "x"), None, "within the interval");
        let last = p.set(100, 100, "done").expect("the last step prints");
        assert!(
            last.starts_with("front 100/100: done, ") && !last.contains("ETA"),
            "{last}"
        );
    }

    #[test]
    fn exhaustive_progress_counts_feasible_candidates_and_the_front() {
        use mohaq_evo::Evaluation;
        let mut archive = EvaluationArchive::new();
        let eval = |objectives: Vec<f64>, g: f64| Evaluation::new(objectives, vec![g]);
        archive.insert(vec![0.0], eval(vec![1.0, 2.0], -1.0));
        archive.insert(vec![1.0], eval(vec![2.0, 1.0], -1.0));
        archive.insert(vec![2.0], eval(vec![3.0, 3.0], -1.0));
        archive.insert(vec![3.0], eval(vec![0.0, 0.0], 1.0));
        let mut p = CandidateProgress(Progress::with_terminal("candidates", 0, false));
        let line = p.update(4, 10, &archive).expect("the first chunk prints");
        assert!(
            line.starts_with("candidates 4/10: 3 feasible, front 2, "),
            "{line}"
        );
    }

    /// With `--max-evaluations` the paper's search counts evaluations of that budget, so a
    /// huge `n_gen` (left to the budget to cut) no longer makes the ETA read thousands of hours.
    #[test]
    fn an_evaluation_budget_is_what_the_progress_counts() {
        let report = GenerationReport {
            generation: 2,
            n_gen: 100_000,
            n_evaluations: 50,
            cache_hits: 0,
            feasible: 50,
            front_size: 3,
            hypervolume: None,
        };
        assert_eq!(
            GenerationProgress::evaluations(180).counts(&report),
            (50, 180)
        );
        assert_eq!(
            GenerationProgress::new(100_000).counts(&report),
            (2, 100_000)
        );
        let line = eta(Duration::from_secs(10), 50, 180);
        assert_eq!(line, ", 10 s elapsed, ETA 26 s");
    }

    #[test]
    fn eta_extrapolates_the_rate() {
        assert_eq!(
            eta(Duration::from_secs(10), 1, 9),
            ", 10 s elapsed, ETA 80 s"
        );
        assert_eq!(
            eta(Duration::from_secs(60), 1, 11),
            ", 60 s elapsed, ETA 10 min"
        );
    }
}
