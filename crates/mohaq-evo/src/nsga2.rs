//! The NSGA-II driver: initial population, then mating, evaluation and survival each generation,
//! with a checkpoint after every generation.
//!
//! Randomness is drawn only in the sequential parts (sampling, selection, variation, survival
//! tie-breaks) from one ChaCha generator; evaluation runs in parallel but its results are used
//! in candidate order. So a seed fixes the run whatever the thread count, and a run resumed from
//! a checkpoint continues exactly as if it had never stopped.

use std::path::{Path, PathBuf};

use rand_chacha::ChaCha8Rng;

use crate::checkpoint;
use crate::config::Nsga2Config;
use crate::crossover::sbx;
use crate::duplicates::{GeneKey, GeneKeySet};
use crate::error::Nsga2Error;
use crate::evaluation::{evaluate_through_cache, within_allowance};
use crate::hypervolume::hypervolume;
use crate::mutation::polynomial_mutation;
use crate::observer::{Control, GenerationReport, Observer};
use crate::population::Individual;
use crate::problem::{Genes, Problem, Space};
use crate::sampling::random_genes;
use crate::selection::tournament_pairs;
use crate::state::Nsga2State;
use crate::survival::rank_and_crowding;

/// How many rounds of mating may be spent refilling offspring lost to duplicate elimination
/// (pymoo's `n_max_iterations`).
const MAX_MATING_ROUNDS: usize = 100;

/// Random draws allowed per wanted member when sampling a unique initial population.
const SAMPLING_TRIES_PER_MEMBER: usize = 100;

/// The engine: a validated configuration and an optional run directory for checkpoints.
#[derive(Debug, Clone)]
pub struct Nsga2 {
    config: Nsga2Config,
    run_dir: Option<PathBuf>,
    seeds: Vec<Genes>,
    max_evaluations: Option<usize>,
}

/// How a call to [`Nsga2::run`] ended.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub state: Nsga2State,
    /// All `n_gen` generations are done (false when an observer stopped the run).
    pub completed: bool,
    /// The generation a checkpoint put the run at when it started, if it resumed.
    pub resumed_from: Option<usize>,
}

impl Nsga2 {
    pub fn new(config: Nsga2Config) -> Result<Self, Nsga2Error> {
        config.validate()?;
        Ok(Self {
            config,
            run_dir: None,
            seeds: Vec::new(),
            max_evaluations: None,
        })
    }

    /// Starts the initial population with these candidates (in order, duplicates and genes
    /// outside the space dropped, at most `pop_size`) and fills the rest at random. Seeds shape
    /// the trajectory, so a resumed run must be given the same seeds.
    pub fn with_seeds(mut self, seeds: Vec<Genes>) -> Self {
        self.seeds = seeds;
        self
    }

    /// Checkpoint into `run_dir` after every generation, and resume from its checkpoint if one
    /// is there.
    pub fn with_run_dir(mut self, run_dir: impl Into<PathBuf>) -> Self {
        self.run_dir = Some(run_dir.into());
        self
    }

    /// Stop once this many evaluations are made, exactly (the last generation is cut), even
    /// before `n_gen` generations; a resumed run counts the evaluations it already has.
    pub fn with_max_evaluations(mut self, max_evaluations: usize) -> Self {
        self.max_evaluations = Some(max_evaluations);
        self
    }

    pub fn config(&self) -> &Nsga2Config {
        &self.config
    }

    /// Runs (or resumes) to `n_gen` generations, reporting each to `observer`.
    pub fn run<P: Problem>(
        &self,
        problem: &P,
        observer: &mut dyn Observer,
    ) -> Result<RunOutcome, Nsga2Error> {
        self.check_problem(problem)?;
        let mut state = match &self.run_dir {
            Some(dir) => checkpoint::load(dir, &self.config, problem.space())?,
            None => None,
        }
        .unwrap_or_else(|| Nsga2State::new(self.config.seed));
        let resumed_from =
            (state.generation > 0 || !state.archive.is_empty()).then_some(state.generation);
        if let Some(generation) = resumed_from {
            tracing::info!(
                generation,
                evaluations = state.n_evaluations(),
                "resuming from checkpoint"
            );
        }
        let cap = self.max_evaluations.unwrap_or(usize::MAX);
        while state.generation < self.config.n_gen && state.n_evaluations() < cap {
            let allowance = cap - state.n_evaluations();
            let hits = match self.step_within(problem, &mut state, allowance) {
                Ok(hits) => hits,
                Err(error) => {
                    // Keep what finished: the archive has every evaluation made before the error.
                    // The evaluation error is the one to report; a failed save is logged.
                    if let Err(save_error) = self.save(problem.space(), &state) {
                        tracing::error!(%save_error, "could not checkpoint after a failed generation");
                    }
                    return Err(error);
                }
            };
            self.save(problem.space(), &state)?;
            let report = self.report(&state, hits);
            tracing::info!(
                generation = report.generation,
                evaluations = report.n_evaluations,
                cache_hits = report.cache_hits,
                feasible = report.feasible,
                front = report.front_size,
                hypervolume = report.hypervolume,
                "generation done"
            );
            if observer.on_generation(&report) == Control::Stop {
                return Ok(RunOutcome {
                    completed: state.generation >= self.config.n_gen,
                    state,
                    resumed_from,
                });
            }
        }
        Ok(RunOutcome {
            state,
            completed: true,
            resumed_from,
        })
    }

    /// Advances `state` by one generation (the first call builds the initial population) and
    /// returns how many candidates came from the cache.
    ///
    /// On error `state` keeps its generation, generator and population; its archive keeps the
    /// evaluations that finished. Repeating the step then repeats the same generation.
    pub fn step<P: Problem>(
        &self,
        problem: &P,
        state: &mut Nsga2State,
    ) -> Result<usize, Nsga2Error> {
        self.step_within(problem, state, usize::MAX)
    }

    /// [`Nsga2::step`] that makes at most `allowance` new evaluations: candidates are cut, in
    /// order, before the first one that would exceed it (so a budgeted search ends on its
    /// budget exactly). With an allowance the generation cannot exceed, it is [`Nsga2::step`].
    pub fn step_within<P: Problem>(
        &self,
        problem: &P,
        state: &mut Nsga2State,
        allowance: usize,
    ) -> Result<usize, Nsga2Error> {
        let mut rng = state.rng.clone();
        let space = problem.space();
        let generation = state.generation + 1;
        let (candidates, parents) = if state.generation == 0 {
            (self.initial_genes(space, &mut rng), Vec::new())
        } else {
            (
                self.offspring(space, &state.population, &mut rng),
                state.population.clone(),
            )
        };
        let mut candidates = candidates;
        candidates.truncate(within_allowance(&state.archive, &candidates, allowance));
        let evaluated =
            evaluate_through_cache(problem, &mut state.archive, &candidates, generation)?;
        let mut pool = parents;
        pool.extend(
            candidates
                .into_iter()
                .zip(evaluated.evaluations)
                .map(|(g, e)| Individual::new(g, e)),
        );
        let n_survive = self.config.pop_size.min(pool.len());
        state.population = rank_and_crowding(pool, n_survive, &mut rng);
        state.rng = rng;
        state.generation = generation;
        Ok(evaluated.cache_hits)
    }

    fn check_problem<P: Problem>(&self, problem: &P) -> Result<(), Nsga2Error> {
        if problem.n_objectives() == 0 {
            return Err(crate::error::ConfigError::Invalid {
                field: "problem.n_objectives",
                requirement: "at least 1",
                value: "0".into(),
            }
            .into());
        }
        if let Some(r) = &self.config.hv_reference {
            if r.len() != problem.n_objectives() {
                return Err(crate::error::ConfigError::Invalid {
                    field: "hv_reference",
                    requirement: "one coordinate per objective",
                    value: format!(
                        "{} coordinates for {} objectives",
                        r.len(),
                        problem.n_objectives()
                    ),
                }
                .into());
            }
        }
        Ok(())
    }

    fn save(&self, space: &Space, state: &Nsga2State) -> Result<(), Nsga2Error> {
        if let Some(dir) = &self.run_dir {
            checkpoint::save(dir, &self.config, space, state)?;
        }
        Ok(())
    }

    /// The seeds, then distinct random candidates up to `pop_size` (fewer only if the space is smaller or the draws
    /// run out); pymoo instead drops duplicates and starts with fewer.
    fn initial_genes(&self, space: &Space, rng: &mut ChaCha8Rng) -> Vec<Genes> {
        let wanted = space.cardinality().map_or(self.config.pop_size, |c| {
            c.min(self.config.pop_size as u128) as usize
        });
        let mut seen = GeneKeySet::default();
        let mut genes = Vec::with_capacity(wanted);
        for seed in &self.seeds {
            if genes.len() < wanted && space.contains(seed) && seen.insert(GeneKey::of(seed)) {
                genes.push(seed.clone());
            }
        }
        let mut tries = wanted * SAMPLING_TRIES_PER_MEMBER;
        while genes.len() < wanted && tries > 0 {
            tries -= 1;
            let g = random_genes(space, rng);
            if !self.config.eliminate_duplicates || seen.insert(GeneKey::of(&g)) {
                genes.push(g);
            }
        }
        genes
    }

    /// `n_offsprings` children: tournament, SBX, mutation, duplicate elimination against the
    /// population and earlier children, repeated while children are missing (pymoo's mating).
    fn offspring(
        &self,
        space: &Space,
        population: &[Individual],
        rng: &mut ChaCha8Rng,
    ) -> Vec<Genes> {
        let wanted = self.config.n_offsprings;
        let mut seen: GeneKeySet = if self.config.eliminate_duplicates {
            population.iter().map(|i| GeneKey::of(&i.genes)).collect()
        } else {
            GeneKeySet::default()
        };
        let mut children = Vec::with_capacity(wanted);
        for _ in 0..=MAX_MATING_ROUNDS {
            let missing = wanted - children.len();
            let pairs = tournament_pairs(population, missing.div_ceil(2), rng);
            let mut firsts = Vec::with_capacity(pairs.len());
            let mut seconds = Vec::with_capacity(pairs.len());
            for [a, b] in pairs {
                let (c1, c2) = sbx(
                    space,
                    &self.config.crossover,
                    &population[a].genes,
                    &population[b].genes,
                    rng,
                );
                firsts.push(c1);
                seconds.push(c2);
            }
            // Children in pymoo's order: every first child, then every second child.
            for mut child in firsts.into_iter().chain(seconds) {
                if children.len() == wanted {
                    break;
                }
                polynomial_mutation(space, &self.config.mutation, &mut child, rng);
                if !self.config.eliminate_duplicates || seen.insert(GeneKey::of(&child)) {
                    children.push(child);
                }
            }
            if children.len() == wanted {
                break;
            }
        }
        if children.len() < wanted {
            tracing::warn!(
                got = children.len(),
                wanted,
                "could not create enough distinct offspring; the space may be nearly exhausted"
            );
        }
        children
    }

    fn report(&self, state: &Nsga2State, cache_hits: usize) -> GenerationReport {
        let front: Vec<Vec<f64>> = state
            .population_front()
            .iter()
            .map(|i| i.objectives().to_vec())
            .collect();
        let hypervolume = self
            .config
            .hv_reference
            .as_ref()
            .and_then(|r| hypervolume(&front, r).ok());
        GenerationReport {
            generation: state.generation,
            n_gen: self.config.n_gen,
            n_evaluations: state.n_evaluations(),
            cache_hits,
            feasible: state.population.iter().filter(|i| i.is_feasible()).count(),
            front_size: front.len(),
            hypervolume,
        }
    }
}

/// Whether `path` holds a checkpoint (a run there would resume).
pub fn has_checkpoint(run_dir: &Path) -> bool {
    checkpoint::checkpoint_path(run_dir).is_file()
}
