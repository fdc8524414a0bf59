//! Search strategies: each finds the exact front of a small space whose front is known, never
//! exceeds its budget, and gives the same run for a seed at any thread count.

use std::convert::Infallible;

use mohaq_evo::strategy::greedy_descent::GreedyDescent;
use mohaq_evo::strategy::knapsack::{knapsack_front, spread_order};
use mohaq_evo::strategy::knapsack_search::KnapsackSearch;
use mohaq_evo::strategy::lookup::LookupProblem;
use mohaq_evo::strategy::nsga2_search::Nsga2Search;
use mohaq_evo::strategy::random_search::RandomSearch;
use mohaq_evo::strategy::refined_nsga2::RefinedNsga2;
use mohaq_evo::strategy::seeded_nsga2::SeededNsga2;
use mohaq_evo::strategy::seeds::uniform_configurations;
use mohaq_evo::strategy::surrogate_search::SurrogateSearch;
use mohaq_evo::{
    enumerate_space, exhaustive_front, Evaluation, EvaluationArchive, FrontQuality, LayerOption,
    LayerwiseProblem, Nsga2Config, Problem, Space, Strategy, StrategyRun, Variable,
};
use proptest::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One gene per layer; error and cost are sums of per-layer tables, so the true front is known
/// by enumeration and the knapsack of the exact increments is exact.
struct Additive {
    space: Space,
    /// `[layer][value index]`, index 0 the cheapest (as bit widths ascend).
    error: Vec<Vec<f64>>,
    cost: Vec<Vec<f64>>,
}

impl Additive {
    /// `layers` layers of widths {2, 4, 8, 16}: error s_l·(16/b − 1)^1.5, cost n_l·b.
    fn bit_widths(layers: usize) -> Self {
        let widths = [2.0f64, 4.0, 8.0, 16.0];
        let error = (0..layers)
            .map(|l| {
                let s = 0.3 + 0.37 * l as f64;
                widths
                    .iter()
                    .map(|b| s * (16.0 / b - 1.0).powf(1.5))
                    .collect()
            })
            .collect();
        let cost = (0..layers)
            .map(|l| {
                let n = 1.0 + (l % 3) as f64;
                widths.iter().map(|b| n * b).collect()
            })
            .collect();
        Self::new(error, cost)
    }

    /// Two options per layer of equal cost saving: the front is "lower the k least sensitive".
    fn two_options(sensitivities: &[f64]) -> Self {
        let error = sensitivities.iter().map(|&s| vec![s, 0.0]).collect();
        let cost = sensitivities.iter().map(|_| vec![1.0, 2.0]).collect();
        Self::new(error, cost)
    }

    /// As [`Additive::bit_widths`], plus an interaction: lowering two neighbouring layers
    /// together costs more error than the sum of each alone, so no additive model (knapsack,
    /// single-layer sensitivity) is exact, and its front is found only by evaluating.
    fn interacting(layers: usize) -> Interacting {
        Interacting(Self::bit_widths(layers))
    }

    fn new(error: Vec<Vec<f64>>, cost: Vec<Vec<f64>>) -> Self {
        let variables = error
            .iter()
            .map(|row: &Vec<f64>| Variable::Choice {
                values: (0..row.len() as i64).collect(),
            })
            .collect();
        Self {
            space: Space::new(variables).unwrap(),
            error,
            cost,
        }
    }

    fn true_front(&self) -> Vec<Vec<f64>> {
        let mut archive = EvaluationArchive::new();
        exhaustive_front(self, &mut archive, 1 << 20, 64, |_, _, _| {})
            .unwrap()
            .into_iter()
            .map(|r| r.evaluation.objectives)
            .collect()
    }
}

impl Problem for Additive {
    type Error = Infallible;
    fn space(&self) -> &Space {
        &self.space
    }
    fn n_objectives(&self) -> usize {
        2
    }
    fn n_constraints(&self) -> usize {
        0
    }
    fn evaluate(&self, genes: &[f64]) -> Result<Evaluation, Infallible> {
        let pick = |t: &Vec<Vec<f64>>| -> f64 {
            t.iter().zip(genes).map(|(row, &g)| row[g as usize]).sum()
        };
        Ok(Evaluation::unconstrained(vec![
            pick(&self.error),
            pick(&self.cost),
        ]))
    }
}

impl LayerwiseProblem for Additive {
    fn error_objective(&self) -> usize {
        0
    }
    /// Most precise (highest index) first.
    fn layer_options(&self) -> Vec<Vec<LayerOption>> {
        self.cost
            .iter()
            .enumerate()
            .map(|(l, row)| {
                (0..row.len())
                    .rev()
                    .map(|k| LayerOption {
                        genes: vec![(l, k as f64)],
                        cost: row[k],
                    })
                    .collect()
            })
            .collect()
    }
    /// The cost is exact without the error.
    fn evaluation_with_error(&self, genes: &[f64], error: f64) -> Option<Evaluation> {
        let cost = self
            .cost
            .iter()
            .zip(genes)
            .map(|(row, &g)| row[g as usize])
            .sum();
        Some(Evaluation::unconstrained(vec![error, cost]))
    }
    /// The exact error increase of each option over the most precise one.
    fn second_order_sensitivity(&self) -> Result<Option<Vec<Vec<f64>>>, Infallible> {
        Ok(Some(
            self.error
                .iter()
                .map(|row| {
                    let top = row[row.len() - 1];
                    row.iter().rev().map(|e| e - top).collect()
                })
                .collect(),
        ))
    }
}

fn default_search() -> SeededNsga2 {
    seeded_search(24)
}

fn refined_search() -> RefinedNsga2 {
    RefinedNsga2::with_population("refined", 24, 8)
}

fn surrogate_search() -> SurrogateSearch {
    SurrogateSearch::with_population("surrogate", 24, 8)
}

/// The surrogate search with its pool generated (front moves and random draws), as in a space
/// too large to enumerate.
fn surrogate_search_pooled() -> SurrogateSearch {
    let mut s = surrogate_search();
    s.enumeration_limit = 0;
    s
}

/// [`Additive`] whose error gains `0.4 · e_l · e_{l+1}` for every pair of neighbouring layers
/// (`e_l` the layer's own error increase).
struct Interacting(Additive);

impl Problem for Interacting {
    type Error = Infallible;
    fn space(&self) -> &Space {
        self.0.space()
    }
    fn n_objectives(&self) -> usize {
        2
    }
    fn n_constraints(&self) -> usize {
        0
    }
    fn evaluate(&self, genes: &[f64]) -> Result<Evaluation, Infallible> {
        let mut e = self.0.evaluate(genes)?;
        let own: Vec<f64> = self
            .0
            .error
            .iter()
            .zip(genes)
            .map(|(row, &g)| row[g as usize] - row[row.len() - 1])
            .collect();
        e.objectives[0] += own.windows(2).map(|w| 0.4 * w[0] * w[1]).sum::<f64>();
        Ok(e)
    }
}

impl LayerwiseProblem for Interacting {
    fn error_objective(&self) -> usize {
        0
    }
    fn layer_options(&self) -> Vec<Vec<LayerOption>> {
        self.0.layer_options()
    }
    fn evaluation_with_error(&self, genes: &[f64], error: f64) -> Option<Evaluation> {
        self.0.evaluation_with_error(genes, error)
    }
}

impl Interacting {
    fn true_front(&self) -> Vec<Vec<f64>> {
        let mut archive = EvaluationArchive::new();
        exhaustive_front(self, &mut archive, 1 << 20, 64, |_, _, _| {})
            .unwrap()
            .into_iter()
            .map(|r| r.evaluation.objectives)
            .collect()
    }
}

fn seeded_search(pop_size: usize) -> SeededNsga2 {
    let mut config = Nsga2Config::mohaq_authors(1);
    config.pop_size = pop_size;
    config.n_offsprings = 8;
    SeededNsga2 {
        name: "seeded".into(),
        config,
        model_sensitivity: false,
    }
}

fn paper_nsga2() -> Nsga2Search {
    Nsga2Search::new("nsga2-paper", Nsga2Config::mohaq_authors(1))
}

fn sorted(mut points: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    points.sort_by(|a, b| a.partial_cmp(b).unwrap());
    points.dedup();
    points
}

fn assert_exact_front(run: &StrategyRun, truth: &[Vec<f64>], what: &str) {
    let found = sorted(run.front_after(run.len()));
    assert_eq!(found, sorted(truth.to_vec()), "{what}");
    let reference = mohaq_evo::reference_point(truth).unwrap();
    let q = FrontQuality::measure(&found, truth, &reference).unwrap();
    assert!((q.hv_ratio - 1.0).abs() < 1e-12, "{what}: {q:?}");
    assert_eq!(q.recovered, truth.len(), "{what}");
    assert_eq!(q.igd, Some(0.0), "{what}");
}

#[test]
fn random_and_nsga2_find_the_exact_front_given_the_whole_space() {
    let problem = Additive::bit_widths(4);
    let truth = problem.true_front();
    let all = 256;
    for seed in [1, 2] {
        let run = RandomSearch.run(&problem, all, seed).unwrap();
        assert_eq!(run.len(), all);
        assert_exact_front(&run, &truth, "random");
        let run = paper_nsga2().run(&problem, all, seed).unwrap();
        assert_exact_front(&run, &truth, "nsga2");
    }
}

#[test]
fn knapsack_and_seeded_search_find_the_exact_front_of_an_additive_space_early() {
    let problem = Additive::bit_widths(4);
    let truth = problem.true_front();
    assert!(truth.len() > 10, "a front worth finding: {}", truth.len());
    let run = KnapsackSearch.run(&problem, 100, 0).unwrap();
    assert_eq!(
        run.len(),
        truth.len(),
        "one evaluation per knapsack optimum"
    );
    assert_exact_front(&run, &truth, "knapsack");
    // Uniform (4) and single-layer (1 + 4·3, one of them uniform) leave room for 24 knapsack
    // optima in a population of 40: the front is exact within the seeds, before NSGA-II adds
    // anything, and well below the 256 candidates.
    let run = seeded_search(40).run(&problem, 60, 3).unwrap();
    assert_eq!(run.len(), 60);
    assert_exact_front(&run, &truth, "seeded");
    assert_eq!(
        sorted(run.front_after(40)),
        sorted(truth.clone()),
        "exact within the seeds"
    );
}

#[test]
fn greedy_descent_traces_the_exact_front_of_a_two_option_space() {
    let problem = Additive::two_options(&[0.9, 0.1, 0.5, 0.3, 0.7]);
    let truth = problem.true_front();
    assert_eq!(truth.len(), 6);
    let run = GreedyDescent.run(&problem, 100, 0).unwrap();
    // The reference, one single-layer point per layer, then 5 steps (the first repeats one).
    assert_eq!(run.len(), 1 + 5 + 4);
    assert_exact_front(&run, &truth, "greedy");
}

#[test]
fn every_strategy_honours_its_budget() {
    let problem = Additive::bit_widths(5);
    for budget in [0, 1, 7, 17, 33] {
        let runs: Vec<(String, StrategyRun)> = vec![
            (
                "random".into(),
                RandomSearch.run(&problem, budget, 4).unwrap(),
            ),
            (
                "nsga2".into(),
                paper_nsga2().run(&problem, budget, 4).unwrap(),
            ),
            (
                "seeded".into(),
                default_search().run(&problem, budget, 4).unwrap(),
            ),
            (
                "refined".into(),
                refined_search().run(&problem, budget, 4).unwrap(),
            ),
            (
                "surrogate".into(),
                surrogate_search().run(&problem, budget, 4).unwrap(),
            ),
            (
                "surrogate, pooled".into(),
                surrogate_search_pooled().run(&problem, budget, 4).unwrap(),
            ),
            (
                "greedy".into(),
                GreedyDescent.run(&problem, budget, 4).unwrap(),
            ),
            (
                "knapsack".into(),
                KnapsackSearch.run(&problem, budget, 4).unwrap(),
            ),
        ];
        for (name, run) in runs {
            assert!(run.len() <= budget, "{name} at {budget}: {}", run.len());
            if !matches!(name.as_str(), "greedy" | "knapsack") {
                assert_eq!(run.len(), budget, "{name} uses its whole budget");
            }
            let distinct = sorted(run.evaluations.iter().map(|r| r.genes.clone()).collect());
            assert_eq!(distinct.len(), run.len(), "{name}: each candidate once");
        }
    }
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn runs_are_deterministic_per_seed_at_any_thread_count() {
    let problem = Additive::bit_widths(6);
    let run_all = || {
        vec![
            RandomSearch.run(&problem, 150, 9).unwrap(),
            paper_nsga2().run(&problem, 150, 9).unwrap(),
            default_search().run(&problem, 150, 9).unwrap(),
            refined_search().run(&problem, 150, 9).unwrap(),
            refined_search()
                .run(&Additive::interacting(5), 150, 9)
                .unwrap(),
            surrogate_search().run(&problem, 150, 9).unwrap(),
            surrogate_search()
                .run(&Additive::interacting(5), 150, 9)
                .unwrap(),
            surrogate_search_pooled()
                .run(&Additive::interacting(5), 150, 9)
                .unwrap(),
            GreedyDescent.run(&problem, 150, 9).unwrap(),
            KnapsackSearch.run(&problem, 150, 9).unwrap(),
        ]
    };
    let one = in_pool(1, run_all);
    let two = in_pool(2, run_all);
    assert_eq!(one, two);
    let other_seed = RandomSearch.run(&problem, 150, 10).unwrap();
    assert_ne!(one[0], other_seed, "the seed matters");
}

#[test]
fn a_lookup_problem_reproduces_direct_evaluation_exactly() {
    let problem = Additive::bit_widths(4);
    let mut archive = EvaluationArchive::new();
    exhaustive_front(&problem, &mut archive, 1 << 20, 64, |_, _, _| {}).unwrap();
    let lookup = LookupProblem::new(&problem, &archive);
    let direct = default_search().run(&problem, 90, 5).unwrap();
    let looked_up = default_search().run(&lookup, 90, 5).unwrap();
    assert_eq!(direct, looked_up);
    let empty = EvaluationArchive::new();
    let missing = LookupProblem::new(&problem, &empty);
    let err = RandomSearch.run(&missing, 5, 1).unwrap_err();
    assert!(err.to_string().contains("not in the archive"), "{err}");
}

#[test]
fn nsga2_search_at_the_paper_budget_is_the_engine_run() {
    let problem = Additive::bit_widths(8);
    let config = Nsga2Config::mohaq_authors(15);
    let engine = mohaq_evo::Nsga2::new(config.clone()).unwrap();
    let outcome = engine.run(&problem, &mut mohaq_evo::Silent).unwrap();
    let run = Nsga2Search::new("paper", config)
        .run(&problem, 180, 1)
        .unwrap();
    // Children that repeat an earlier (not current) member are cache hits, so 15 generations
    // may make fewer than 180 evaluations; the budgeted run continues the same trajectory.
    let engine_records = outcome.state.archive.records();
    assert!(engine_records.len() <= 180);
    assert_eq!(run.len(), 180);
    assert_eq!(&run.evaluations[..engine_records.len()], engine_records);
}

#[test]
fn uniform_configurations_cover_each_level() {
    let space = Space::new(vec![
        Variable::Choice {
            values: vec![4, 8, 16],
        },
        Variable::Choice { values: vec![4, 8] },
    ])
    .unwrap();
    assert_eq!(
        uniform_configurations(&space),
        vec![vec![0.0, 0.0], vec![1.0, 1.0], vec![2.0, 1.0]]
    );
}

#[test]
fn knapsack_without_a_sensitivity_is_a_clear_error() {
    struct NoSensitivity(Additive);
    impl Problem for NoSensitivity {
        type Error = Infallible;
        fn space(&self) -> &Space {
            self.0.space()
        }
        fn n_objectives(&self) -> usize {
            2
        }
        fn n_constraints(&self) -> usize {
            0
        }
        fn evaluate(&self, genes: &[f64]) -> Result<Evaluation, Infallible> {
            self.0.evaluate(genes)
        }
    }
    impl LayerwiseProblem for NoSensitivity {
        fn error_objective(&self) -> usize {
            0
        }
        fn layer_options(&self) -> Vec<Vec<LayerOption>> {
            self.0.layer_options()
        }
    }
    let err = KnapsackSearch
        .run(&NoSensitivity(Additive::bit_widths(2)), 10, 0)
        .unwrap_err();
    assert!(
        err.to_string().contains("second_order_sensitivity"),
        "{err}"
    );
}

proptest! {
    /// The staircase merge equals brute force: for every budget, its cheapest optimum has the
    /// least sensitivity any choice within that budget has.
    #[test]
    fn knapsack_front_is_exact(
        table in prop::collection::vec(prop::collection::vec((0u8..20, 0u8..20), 1..4), 1..5)
    ) {
        let options: Vec<Vec<LayerOption>> = table
            .iter()
            .map(|row| row.iter().map(|&(c, _)| LayerOption { genes: vec![], cost: f64::from(c) }).collect())
            .collect();
        let sens: Vec<Vec<Option<f64>>> = table
            .iter()
            .map(|row| row.iter().map(|&(_, s)| Some(f64::from(s))).collect())
            .collect();
        let front = knapsack_front(&options, &sens);
        let space = Space::new(table.iter().map(|r| Variable::Integer { lo: 0, hi: r.len() as i64 - 1 }).collect()).unwrap();
        let all = enumerate_space(&space, 1 << 20).unwrap();
        for budget in 0..=80 {
            let b = f64::from(budget);
            let brute = all
                .iter()
                .filter(|g| g.iter().enumerate().map(|(l, &k)| options[l][k as usize].cost).sum::<f64>() <= b)
                .map(|g| g.iter().enumerate().map(|(l, &k)| sens[l][k as usize].unwrap()).sum::<f64>())
                .fold(f64::INFINITY, f64::min);
            let dp = front
                .iter()
                .filter(|s| s.cost <= b)
                .map(|s| s.sensitivity)
                .fold(f64::INFINITY, f64::min);
            prop_assert_eq!(brute, dp);
        }
    }

    /// Spread order is a permutation of evenly spread picks, ends first.
    #[test]
    fn spread_order_picks_each_once(n in 1usize..200, m in 1usize..60) {
        let order = spread_order(n, m);
        prop_assert_eq!(order.len(), m.min(n));
        let mut s = order.clone();
        s.sort_unstable();
        s.dedup();
        prop_assert_eq!(s.len(), order.len());
        prop_assert_eq!(order[0], n - 1);
        prop_assert!(order.iter().all(|&i| i < n));
    }
}

/// Random search, NSGA-II and the seeded search make the same first evaluations whatever the
/// budget, so one run at the largest budget gives every smaller budget's front exactly.
#[test]
fn stochastic_runs_at_a_smaller_budget_are_prefixes() {
    let problem = Additive::bit_widths(6);
    let long = |s: &dyn Fn(usize) -> StrategyRun| (s(200), s(57));
    let cases: Vec<(StrategyRun, StrategyRun)> = vec![
        long(&|b| RandomSearch.run(&problem, b, 8).unwrap()),
        long(&|b| paper_nsga2().run(&problem, b, 8).unwrap()),
        long(&|b| default_search().run(&problem, b, 8).unwrap()),
        long(&|b| refined_search().run(&problem, b, 8).unwrap()),
        long(&|b| surrogate_search().run(&problem, b, 8).unwrap()),
        long(&|b| surrogate_search_pooled().run(&problem, b, 8).unwrap()),
    ];
    for (full, short) in cases {
        assert_eq!(&full.evaluations[..57], &short.evaluations[..]);
    }
}

#[test]
fn a_memo_problem_evaluates_each_candidate_once_and_changes_nothing() {
    let problem = Additive::bit_widths(5);
    let memo = mohaq_evo::strategy::memo::MemoProblem::new(&problem);
    let a = RandomSearch.run(&memo, 80, 1).unwrap();
    let b = RandomSearch.run(&memo, 80, 1).unwrap();
    assert_eq!(a, b);
    assert_eq!(memo.evaluated(), 80);
    assert_eq!(a, RandomSearch.run(&problem, 80, 1).unwrap());
}

/// Sixteen options over eight layers with incommensurate costs: the staircase would grow with
/// the product of option counts; it stays bounded and still spans the whole cost range.
#[test]
fn knapsack_front_stays_bounded_on_a_large_space() {
    let options: Vec<Vec<LayerOption>> = (0..8)
        .map(|l| {
            (0..16)
                .map(|k| LayerOption {
                    genes: vec![],
                    cost: (k as f64 + 1.0) * (1.0 + 0.1371 * l as f64).sqrt(),
                })
                .collect()
        })
        .collect();
    let sens: Vec<Vec<Option<f64>>> = (0..8)
        .map(|l| {
            (0..16)
                .map(|k| Some(((16 - k) as f64).powf(1.3 + 0.07 * l as f64)))
                .collect()
        })
        .collect();
    let front = knapsack_front(&options, &sens);
    assert!(front.len() <= mohaq_evo::strategy::knapsack::EXACT_LIMIT);
    let cheapest: f64 = (0..8).map(|l| options[l][0].cost).sum();
    assert!((front[0].cost - cheapest).abs() < 1e-9);
    assert!(front
        .windows(2)
        .all(|w| w[0].cost <= w[1].cost && w[0].sensitivity > w[1].sensitivity));
}

/// The refined search finds the exact front of the additive space within its seeds, like the
/// seeded search, and the exact front of a space with interactions (where the knapsack of
/// single-layer sensitivities is not exact) well before the space is exhausted; there it does
/// at least as well as the seeded search and NSGA-II at every checked budget, over seeds.
#[test]
fn refined_search_finds_exact_fronts_with_and_without_interactions() {
    let additive = Additive::bit_widths(4);
    let truth = additive.true_front();
    let run = refined_search().run(&additive, 60, 3).unwrap();
    assert_eq!(run.len(), 60);
    assert_exact_front(&run, &truth, "refined, additive");

    let problem = Additive::interacting(5);
    let truth = problem.true_front();
    let size = 4usize.pow(5);
    assert!(truth.len() > 10, "a front worth finding: {}", truth.len());
    let knapsack = KnapsackSearch.run(&problem.0, size, 0).unwrap();
    let knapsack_front: Vec<Vec<f64>> = knapsack
        .evaluations
        .iter()
        .map(|r| problem.evaluate(&r.genes).unwrap().objectives)
        .collect();
    let reference = mohaq_evo::reference_point(&truth).unwrap();
    let knapsack_quality = FrontQuality::measure(&knapsack_front, &truth, &reference).unwrap();
    assert!(
        knapsack_quality.recovered < truth.len(),
        "interactions make the additive optima inexact: {knapsack_quality:?}"
    );
    let budget = size / 4;
    for seed in 1..=3 {
        let run = refined_search().run(&problem, budget, seed).unwrap();
        assert_exact_front(&run, &truth, &format!("refined, interacting, seed {seed}"));
        for b in [60, 120, budget] {
            let hv = |front: Vec<Vec<f64>>| {
                FrontQuality::measure(&front, &truth, &reference)
                    .unwrap()
                    .hv_ratio
            };
            let refined = hv(run.front_after(b));
            let seeded = hv(default_search()
                .run(&problem, b, seed)
                .unwrap()
                .front_after(b));
            let nsga2 = hv(paper_nsga2().run(&problem, b, seed).unwrap().front_after(b));
            assert!(
                refined >= seeded - 1e-12 && refined >= nsga2 - 1e-12,
                "seed {seed}, budget {b}: refined {refined}, seeded {seeded}, nsga2 {nsga2}"
            );
        }
    }
}

/// A problem that counts its evaluations.
struct Counting<'a>(&'a Interacting, AtomicUsize);
impl Problem for Counting<'_> {
    type Error = Infallible;
    fn space(&self) -> &Space {
        self.0.space()
    }
    fn n_objectives(&self) -> usize {
        2
    }
    fn n_constraints(&self) -> usize {
        0
    }
    fn evaluate(&self, genes: &[f64]) -> Result<Evaluation, Infallible> {
        self.1.fetch_add(1, Ordering::Relaxed);
        self.0.evaluate(genes)
    }
}
impl LayerwiseProblem for Counting<'_> {
    fn error_objective(&self) -> usize {
        0
    }
    fn layer_options(&self) -> Vec<Vec<LayerOption>> {
        self.0.layer_options()
    }
    fn evaluation_with_error(&self, genes: &[f64], error: f64) -> Option<Evaluation> {
        self.0.evaluation_with_error(genes, error)
    }
}

/// A refined search stopped by its observer and resumed from the run directory's checkpoint
/// ends with exactly the evaluations of an uninterrupted run, none evaluated twice.
#[test]
fn a_stopped_refined_search_resumes_by_replay_to_the_same_run() {
    stopped_search_resumes_by_replay(&refined_search());
}

/// The same for the default (surrogate-assisted) search, whose rounds are smaller.
#[test]
fn a_stopped_surrogate_search_resumes_by_replay_to_the_same_run() {
    stopped_search_resumes_by_replay(&surrogate_search());
    stopped_search_resumes_by_replay(&surrogate_search_pooled());
}

fn stopped_search_resumes_by_replay<S>(search: &S)
where
    S: std::fmt::Debug
        + Sync
        + for<'a, 'b> Strategy<mohaq_evo::strategy::resumable::Replay<'a, Counting<'b>>>
        + Strategy<Interacting>,
{
    use mohaq_evo::strategy::resumable::Replay;
    use mohaq_evo::{Control, GenerationReport};

    let problem = Additive::interacting(5);
    let budget = 150;
    let whole = search.run(&problem, budget, 7).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let identity = format!("{search:?}, seed 7");
    let first = Counting(&problem, AtomicUsize::new(0));
    let replay = Replay::open(&first, dir.path(), identity.clone(), budget).unwrap();
    let mut stop_after_4 = |r: &GenerationReport| {
        if r.generation == 4 {
            Control::Stop
        } else {
            Control::Continue
        }
    };
    let partial = replay
        .drive(&mut stop_after_4, |p| search.run(p, budget, 7))
        .unwrap();
    assert!(!partial.completed);
    assert_eq!(partial.batches, 4);
    assert!(partial.archive.len() < budget);
    let made = first.1.load(Ordering::Relaxed);
    assert_eq!(made, partial.archive.len());

    let second = Counting(&problem, AtomicUsize::new(0));
    let replay = Replay::open(&second, dir.path(), identity, budget).unwrap();
    assert_eq!(replay.replayed(), Some(4));
    let resumed = replay
        .drive(&mut mohaq_evo::Silent, |p| search.run(p, budget, 7))
        .unwrap();
    assert!(resumed.completed);
    assert_eq!(Vec::from(resumed.archive), whole.evaluations);
    assert_eq!(made + second.1.load(Ordering::Relaxed), budget);

    let other = Replay::open(&problem, dir.path(), "another strategy", budget);
    let err = other
        .err()
        .expect("another strategy's checkpoint is refused");
    assert!(err.to_string().contains("strategy"), "{err}");
}

/// The surrogate-assisted search (the default) finds the exact front of the additive space
/// well before the space is exhausted, with the space enumerated or with a generated pool, and
/// the exact front of the space with interactions before 5/8 of it is evaluated (the additive
/// model misses some interacting points longer than the refined search's neighbours do); there
/// it does at least as well as NSGA-II with the paper's settings at 60 and 120 evaluations (at
/// 256, a quarter of the space, NSGA-II is ahead: 0.9998 against 0.9971 for seed 1).
#[test]
fn surrogate_search_finds_exact_fronts_with_and_without_interactions() {
    let additive = Additive::bit_widths(4);
    let truth = additive.true_front();
    for (search, what) in [
        (surrogate_search(), "enumerated"),
        (surrogate_search_pooled(), "pooled"),
    ] {
        let run = search.run(&additive, 80, 3).unwrap();
        assert_eq!(run.len(), 80);
        assert_exact_front(&run, &truth, &format!("surrogate, additive, {what}"));
    }

    let problem = Additive::interacting(5);
    let truth = problem.true_front();
    let reference = mohaq_evo::reference_point(&truth).unwrap();
    let budget = 4usize.pow(5) * 5 / 8;
    for seed in 1..=2 {
        let run = surrogate_search().run(&problem, budget, seed).unwrap();
        assert_exact_front(
            &run,
            &truth,
            &format!("surrogate, interacting, seed {seed}"),
        );
        for b in [60, 120] {
            let hv = |front: Vec<Vec<f64>>| {
                FrontQuality::measure(&front, &truth, &reference)
                    .unwrap()
                    .hv_ratio
            };
            let surrogate = hv(run.front_after(b));
            let nsga2 = hv(paper_nsga2().run(&problem, b, seed).unwrap().front_after(b));
            assert!(
                surrogate >= nsga2 - 1e-12,
                "seed {seed}, budget {b}: surrogate {surrogate}, nsga2 {nsga2}"
            );
        }
    }
}

/// Without cheap objectives the surrogate search is the seeded NSGA-II it falls back to.
#[test]
fn surrogate_search_without_cheap_objectives_runs_its_fallback() {
    struct Opaque(Additive);
    impl Problem for Opaque {
        type Error = Infallible;
        fn space(&self) -> &Space {
            self.0.space()
        }
        fn n_objectives(&self) -> usize {
            2
        }
        fn n_constraints(&self) -> usize {
            0
        }
        fn evaluate(&self, genes: &[f64]) -> Result<Evaluation, Infallible> {
            self.0.evaluate(genes)
        }
    }
    impl LayerwiseProblem for Opaque {
        fn error_objective(&self) -> usize {
            0
        }
        fn layer_options(&self) -> Vec<Vec<LayerOption>> {
            self.0.layer_options()
        }
    }
    let problem = Opaque(Additive::bit_widths(4));
    let search = surrogate_search();
    assert_eq!(
        search.run(&problem, 70, 2).unwrap(),
        search.fallback.run(&problem, 70, 2).unwrap()
    );
    assert_ne!(
        search.run(&problem, 70, 2).unwrap(),
        search.run(&problem.0, 70, 2).unwrap(),
        "with cheap objectives it searches differently"
    );
}
