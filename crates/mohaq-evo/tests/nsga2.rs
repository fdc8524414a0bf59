//! The engine end to end: convergence, constraints, determinism, cache, checkpoints and resume.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use mohaq_evo::checkpoint::checkpoint_path;
use mohaq_evo::test_problems::{TestFunction, TestProblem};
use mohaq_evo::{
    hypervolume, CheckpointError, Control, Evaluation, GenerationReport, Nsga2, Nsga2Config,
    Nsga2Error, Nsga2State, Problem, Silent, Space, Variable,
};

/// A discrete, constrained problem in the shape of MOHAQ's: genes are bit widths {2, 4, 8, 16}
/// per layer; "error" falls and "size" grows with the bits; size is capped by a constraint.
/// It counts its evaluations, and can be told to fail at the n-th one.
struct BitWidths {
    space: Space,
    evaluations: AtomicUsize,
    fail_at: Option<usize>,
    seen: Mutex<Vec<Vec<f64>>>,
}

#[derive(Debug, thiserror::Error)]
#[error("simulated evaluator failure")]
struct Simulated;

impl BitWidths {
    fn new(n: usize, fail_at: Option<usize>) -> Self {
        Self {
            space: Space::repeat(
                Variable::Choice {
                    values: vec![2, 4, 8, 16],
                },
                n,
            )
            .unwrap(),
            evaluations: AtomicUsize::new(0),
            fail_at,
            seen: Mutex::new(Vec::new()),
        }
    }
}

impl Problem for BitWidths {
    type Error = Simulated;
    fn space(&self) -> &Space {
        &self.space
    }
    fn n_objectives(&self) -> usize {
        2
    }
    fn n_constraints(&self) -> usize {
        1
    }
    fn evaluate(&self, genes: &[f64]) -> Result<Evaluation, Simulated> {
        let number = self.evaluations.fetch_add(1, Ordering::SeqCst) + 1;
        if Some(number) == self.fail_at {
            return Err(Simulated);
        }
        self.seen.lock().unwrap().push(genes.to_vec());
        let bits = self.space.decode(genes);
        let error: f64 = bits
            .iter()
            .enumerate()
            .map(|(i, b)| (1.0 + i as f64) / (b * b))
            .sum();
        let size: f64 = bits
            .iter()
            .enumerate()
            .map(|(i, b)| b * (1.0 + (i % 3) as f64))
            .sum();
        // Size at most 60% of the all-16-bit size.
        let max_size = 16.0
            * bits
                .iter()
                .enumerate()
                .map(|(i, _)| 1.0 + (i % 3) as f64)
                .sum::<f64>();
        Ok(Evaluation::new(
            vec![error, size],
            vec![size / (0.6 * max_size) - 1.0],
        ))
    }
}

fn bit_config(n_gen: usize) -> Nsga2Config {
    let mut config = Nsga2Config::mohaq_authors(n_gen);
    config.seed = 7;
    config
}

#[test]
fn zdt1_converges_near_the_true_front() {
    let problem = TestProblem::zdt(TestFunction::Zdt1, 30);
    let mut config = Nsga2Config::pymoo_defaults(100, 150, 3);
    config.hv_reference = Some(vec![1.1, 1.1]);
    let mut reports = Vec::new();
    let outcome = Nsga2::new(config)
        .unwrap()
        .run(&problem, &mut |r: &GenerationReport| {
            reports.push(r.clone());
            Control::Continue
        })
        .unwrap();
    assert!(outcome.completed);
    assert_eq!(reports.len(), 150);
    assert_eq!(outcome.state.n_evaluations(), 100 + 149 * 100);
    let front: Vec<Vec<f64>> = outcome
        .state
        .population_front()
        .iter()
        .map(|i| i.objectives().to_vec())
        .collect();
    let hv = hypervolume(&front, &[1.1, 1.1]).unwrap();
    // The true front's hypervolume is 0.8767; random search stays far below 0.5.
    assert!(hv > 0.85, "hypervolume {hv}");
    let last = reports.last().unwrap();
    assert_eq!(last.hypervolume, Some(hv));
    assert!(reports[0].hypervolume.unwrap_or(0.0) < hv);
}

#[test]
fn constrained_discrete_run_keeps_genes_legal_and_ends_feasible() {
    let problem = BitWidths::new(8, None);
    let outcome = Nsga2::new(bit_config(15))
        .unwrap()
        .run(&problem, &mut Silent)
        .unwrap();
    // The authors' SiLago budget: 40 + 14 * 10 evaluations at most (fewer with cache hits).
    assert!(outcome.state.n_evaluations() <= 180);
    assert_eq!(outcome.state.population.len(), 40);
    for member in &outcome.state.population {
        assert!(
            problem.space().contains(&member.genes),
            "{:?}",
            member.genes
        );
        assert!(member.is_feasible());
    }
    // The problem was never asked twice about the same genes.
    let mut seen = problem.seen.lock().unwrap().clone();
    let n = seen.len();
    seen.sort_by(|a, b| a.partial_cmp(b).unwrap());
    seen.dedup();
    assert_eq!(seen.len(), n);
    assert_eq!(n, outcome.state.n_evaluations());
}

#[test]
fn same_seed_same_run_whatever_the_thread_count() {
    let run_with = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let problem = TestProblem::dtlz2(3, 12);
            Nsga2::new(Nsga2Config::pymoo_defaults(40, 20, 11))
                .unwrap()
                .run(&problem, &mut Silent)
                .unwrap()
                .state
        })
    };
    let one = run_with(1);
    let three = run_with(3);
    assert_eq!(one, three);
    let other_seed = TestProblem::dtlz2(3, 12);
    let different = Nsga2::new(Nsga2Config::pymoo_defaults(40, 20, 12))
        .unwrap()
        .run(&other_seed, &mut Silent)
        .unwrap()
        .state;
    assert_ne!(one.population, different.population);
}

fn uninterrupted(n_gen: usize) -> Nsga2State {
    let problem = BitWidths::new(10, None);
    Nsga2::new(bit_config(n_gen))
        .unwrap()
        .run(&problem, &mut Silent)
        .unwrap()
        .state
}

#[test]
fn stopped_and_resumed_run_equals_uninterrupted_run() {
    let reference = uninterrupted(25);
    let dir = tempfile::tempdir().unwrap();
    let engine = Nsga2::new(bit_config(25)).unwrap().with_run_dir(dir.path());
    let first = BitWidths::new(10, None);
    let stopped = engine
        .run(&first, &mut |r: &GenerationReport| {
            if r.generation == 9 {
                Control::Stop
            } else {
                Control::Continue
            }
        })
        .unwrap();
    assert!(!stopped.completed);
    assert_eq!(stopped.state.generation, 9);
    assert!(checkpoint_path(dir.path()).is_file());
    let second = BitWidths::new(10, None);
    let resumed = engine.run(&second, &mut Silent).unwrap();
    assert_eq!(resumed.resumed_from, Some(9));
    assert!(resumed.completed);
    assert_eq!(resumed.state, reference);
    // Between them the two processes evaluated each candidate once.
    let asked = first.seen.lock().unwrap().len() + second.seen.lock().unwrap().len();
    assert_eq!(asked, reference.n_evaluations());
}

#[test]
fn run_failing_mid_generation_resumes_to_the_same_result() {
    let reference = uninterrupted(25);
    let dir = tempfile::tempdir().unwrap();
    let engine = Nsga2::new(bit_config(25)).unwrap().with_run_dir(dir.path());
    // Fail inside a generation's batch (after the 40 initial evaluations and a few more).
    let failing = BitWidths::new(10, Some(87));
    let error = engine.run(&failing, &mut Silent).unwrap_err();
    assert!(matches!(error, Nsga2Error::Evaluation { .. }), "{error}");
    let finished_before_failure = failing.seen.lock().unwrap().len();
    assert!(finished_before_failure >= 80);
    let healthy = BitWidths::new(10, None);
    let resumed = engine.run(&healthy, &mut Silent).unwrap();
    assert_eq!(resumed.state, reference);
    // Nothing that finished before the failure was evaluated again; evaluations finished after
    // the failing one in the same batch are not kept (they are repeated), so the archive order
    // matches the uninterrupted run.
    let seen_first: Vec<Vec<f64>> = failing.seen.lock().unwrap().clone();
    let seen_second = healthy.seen.lock().unwrap().clone();
    let kept = reference.n_evaluations() - seen_second.len();
    assert!(kept >= 80 && kept <= seen_first.len());
    for genes in &reference.archive.records()[..kept] {
        assert!(!seen_second.contains(&genes.genes));
    }
}

#[test]
fn extending_a_finished_run_continues_it() {
    let reference = uninterrupted(20);
    let dir = tempfile::tempdir().unwrap();
    let problem = BitWidths::new(10, None);
    Nsga2::new(bit_config(12))
        .unwrap()
        .with_run_dir(dir.path())
        .run(&problem, &mut Silent)
        .unwrap();
    let extended = Nsga2::new(bit_config(20))
        .unwrap()
        .with_run_dir(dir.path())
        .run(&problem, &mut Silent)
        .unwrap();
    assert_eq!(extended.resumed_from, Some(12));
    assert_eq!(extended.state, reference);
}

#[test]
fn checkpoint_of_another_run_is_refused_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let problem = BitWidths::new(6, None);
    Nsga2::new(bit_config(3))
        .unwrap()
        .with_run_dir(dir.path())
        .run(&problem, &mut Silent)
        .unwrap();
    let mut other = bit_config(3);
    other.seed = 99;
    let error = Nsga2::new(other)
        .unwrap()
        .with_run_dir(dir.path())
        .run(&problem, &mut Silent)
        .unwrap_err();
    match error {
        Nsga2Error::Checkpoint(CheckpointError::Mismatch { path, field, .. }) => {
            assert_eq!(field, "seed");
            assert_eq!(path, checkpoint_path(dir.path()));
        }
        other => panic!("unexpected {other}"),
    }
    let wider = BitWidths::new(7, None);
    let error = Nsga2::new(bit_config(3))
        .unwrap()
        .with_run_dir(dir.path())
        .run(&wider, &mut Silent)
        .unwrap_err();
    assert!(matches!(
        error,
        Nsga2Error::Checkpoint(CheckpointError::Mismatch { field: "space", .. })
    ));
    std::fs::write(checkpoint_path(dir.path()), b"{ not json").unwrap();
    let error = Nsga2::new(bit_config(3))
        .unwrap()
        .with_run_dir(dir.path())
        .run(&problem, &mut Silent)
        .unwrap_err();
    assert!(matches!(
        error,
        Nsga2Error::Checkpoint(CheckpointError::Json { .. })
    ));
    assert!(error.to_string().contains("checkpoint.json"), "{error}");
}

struct WrongArity;
impl Problem for WrongArity {
    type Error = Infallible;
    fn space(&self) -> &Space {
        static SPACE: std::sync::OnceLock<Space> = std::sync::OnceLock::new();
        SPACE.get_or_init(|| Space::repeat(Variable::Integer { lo: 0, hi: 3 }, 3).unwrap())
    }
    fn n_objectives(&self) -> usize {
        2
    }
    fn n_constraints(&self) -> usize {
        0
    }
    fn evaluate(&self, genes: &[f64]) -> Result<Evaluation, Infallible> {
        Ok(Evaluation::unconstrained(vec![genes[0]]))
    }
}

#[test]
fn malformed_evaluation_is_a_typed_error() {
    let error = Nsga2::new(bit_config(2))
        .unwrap()
        .run(&WrongArity, &mut Silent)
        .unwrap_err();
    assert!(
        matches!(error, Nsga2Error::BadEvaluation { generation: 1, .. }),
        "{error}"
    );
}

#[test]
fn invalid_settings_are_rejected() {
    let mut config = bit_config(5);
    config.crossover.prob = 1.5;
    assert!(matches!(Nsga2::new(config), Err(Nsga2Error::Config(_))));
    let mut config = bit_config(5);
    config.hv_reference = Some(vec![1.0, 1.0, 1.0]);
    let error = Nsga2::new(config)
        .unwrap()
        .run(&BitWidths::new(4, None), &mut Silent)
        .unwrap_err();
    assert!(matches!(error, Nsga2Error::Config(_)));
}

#[test]
fn dtlz2_front_lies_near_the_unit_sphere() {
    let problem = TestProblem::dtlz2(3, 12);
    let outcome = Nsga2::new(Nsga2Config::pymoo_defaults(100, 100, 5))
        .unwrap()
        .run(&problem, &mut Silent)
        .unwrap();
    let front: Vec<Vec<f64>> = outcome
        .state
        .population_front()
        .iter()
        .map(|i| i.objectives().to_vec())
        .collect();
    let truth = problem.true_front(30);
    let distance = mohaq_evo::igd(&front, &truth).unwrap();
    // A random population sits at IGD ~0.5 and beyond; a converged NSGA-II run near 0.06.
    assert!(distance < 0.1, "IGD {distance}");
    for p in &front {
        let radius = p.iter().map(|f| f * f).sum::<f64>().sqrt();
        assert!((0.99..1.1).contains(&radius), "radius {radius}");
    }
}
