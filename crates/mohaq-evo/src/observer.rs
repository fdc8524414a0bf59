//! Per-generation progress: what a progress bar or a log needs, and a way to stop early.

/// What happened in one generation.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationReport {
    /// Generations completed, counting the initial population as 1.
    pub generation: usize,
    pub n_gen: usize,
    /// Problem evaluations so far (cache hits excluded), across resumes.
    pub n_evaluations: usize,
    /// Candidates of this generation answered from the cache.
    pub cache_hits: usize,
    /// Feasible members of the population.
    pub feasible: usize,
    /// Feasible non-dominated members of the population.
    pub front_size: usize,
    /// Hypervolume of that front, if the configuration names a reference point.
    pub hypervolume: Option<f64>,
}

/// Whether the run should go on after a generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Continue,
    /// Stop now; the checkpoint for this generation is already written, so the run can resume.
    Stop,
}

/// Called after every generation (after its checkpoint is written).
pub trait Observer {
    fn on_generation(&mut self, report: &GenerationReport) -> Control;
}

impl<F: FnMut(&GenerationReport) -> Control> Observer for F {
    fn on_generation(&mut self, report: &GenerationReport) -> Control {
        self(report)
    }
}

/// An observer that watches nothing and never stops the run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Observer for Silent {
    fn on_generation(&mut self, _: &GenerationReport) -> Control {
        Control::Continue
    }
}
