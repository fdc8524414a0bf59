//! Searches end to end on the synthetic model: determinism, resume without repeated work,
//! beacons, bad input.

use std::path::{Path, PathBuf};

use mohaq_beacon::experiment::Experiment;
use mohaq_beacon::problem::MohaqProblem;
use mohaq_beacon::run::{run_search, FrontFile, RunOptions};
use mohaq_beacon::synthetic::SyntheticModel;
use mohaq_beacon::{LayerBits, RunError};
use mohaq_evo::{Control, GenerationReport, Problem, Silent};
use mohaq_hw::Platform;

fn platform(name: &str) -> Platform {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../platforms")
        .join(name);
    Platform::from_toml_file(path).unwrap()
}

fn experiment(text: &str) -> Experiment {
    Experiment::from_toml_str(text, Path::new("test.toml")).unwrap()
}

const COMPRESSION: &str = r#"
name = "compression"
kind = "compression"
seed = 3
[model]
config = "m.toml"
weights = "m.safetensors"
[search]
pop_size = 12
n_offsprings = 4
n_gen = 8
[constraints]
max_error = { absolute = 24.0 }
"#;

const BITFUSION_BEACON: &str = r#"
name = "bitfusion-beacon"
kind = "bitfusion"
platform = "unused.toml"
[model]
config = "m.toml"
weights = "m.safetensors"
[search]
pop_size = 12
n_offsprings = 4
n_gen = 8
[constraints]
max_error = { relative = 1.5 }
[beacons]
mode = "dynamic"
distance_threshold = 5
band = [{ absolute = 19.0 }, { absolute = 40.0 }]
min_speedup = 4.0
epochs = 2
max_beacons = 3
"#;

/// `exp` with the paper's NSGA-II instead of the default search.
fn paper(mut exp: Experiment) -> Experiment {
    exp.search.strategy = Some(mohaq_beacon::SearchStrategy::Paper);
    exp
}

fn options() -> RunOptions {
    RunOptions::default()
}

fn run(
    exp: &Experiment,
    model: &SyntheticModel,
    platform: Option<&Platform>,
    dir: &Path,
) -> Result<FrontFile, RunError> {
    run_search(
        exp,
        model,
        Some(model),
        platform,
        dir,
        &options(),
        &mut Silent,
    )
}

fn objectives(front: &FrontFile) -> Vec<(String, f64)> {
    front
        .solutions
        .iter()
        .map(|s| (s.genes_display.clone(), s.score.error))
        .collect()
}

#[test]
fn compression_search_is_deterministic_and_feasible() {
    let exp = experiment(COMPRESSION);
    let dir = tempfile::tempdir().unwrap();
    let model = SyntheticModel::new();
    let a = run(&exp, &model, None, &dir.path().join("a")).unwrap();
    let b = run(&exp, &SyntheticModel::new(), None, &dir.path().join("b")).unwrap();
    assert_eq!(objectives(&a), objectives(&b));
    assert!(a.completed && !a.solutions.is_empty());
    assert_eq!(a.n_evaluations, 12 + 7 * 4);
    assert_eq!(model.evaluations(), a.n_evaluations);
    for s in &a.solutions {
        assert!(s.score.error <= 24.0);
        let t = s.test_error.unwrap();
        assert!((t - (s.score.error * 1.04 + 0.3)).abs() < 1e-9);
    }
    // Sorted by error, and mutually non-dominated in (error, size).
    for w in a.solutions.windows(2) {
        assert!(w[0].score.error <= w[1].score.error);
        assert!(w[0].score.cost.size_mb > w[1].score.cost.size_mb);
    }
    for f in [
        "experiment.toml",
        "limits.json",
        mohaq_evo::strategy::resumable::STRATEGY_CHECKPOINT_FILE,
        "front.json",
    ] {
        assert!(dir.path().join("a").join(f).is_file(), "{f}");
    }
    assert_eq!(FrontFile::load(&dir.path().join("a")).unwrap(), a);
}

#[test]
fn killed_run_resumes_without_repeating_evaluations() {
    let exp = experiment(COMPRESSION);
    let dir = tempfile::tempdir().unwrap();
    let whole = run(
        &exp,
        &SyntheticModel::new(),
        None,
        &dir.path().join("whole"),
    )
    .unwrap();

    let first = SyntheticModel::new();
    let mut stop_after_3 = |r: &GenerationReport| {
        if r.generation == 3 {
            Control::Stop
        } else {
            Control::Continue
        }
    };
    let split = dir.path().join("split");
    let partial = run_search(
        &exp,
        &first,
        None,
        None,
        &split,
        &options(),
        &mut stop_after_3,
    )
    .unwrap();
    assert!(!partial.completed);
    let second = SyntheticModel::new();
    let resumed = run(&exp, &second, None, &split).unwrap();
    assert_eq!(resumed.resumed_from, Some(3));
    assert_eq!(objectives(&resumed), objectives(&whole));
    assert_eq!(
        first.evaluations() + second.evaluations(),
        whole.n_evaluations
    );
}

#[test]
fn silago_uses_eight_shared_genes_and_three_objectives() {
    let text = COMPRESSION
        .replace(
            "kind = \"compression\"",
            "kind = \"silago\"\nplatform = \"p.toml\"",
        )
        .replace(
            "[constraints]",
            "[constraints]\nmax_size_mb = { absolute = 6.0 }",
        );
    let exp = experiment(&text);
    let silago = platform("silago.toml");
    let dir = tempfile::tempdir().unwrap();
    let front = run(&exp, &SyntheticModel::new(), Some(&silago), dir.path()).unwrap();
    assert_eq!(front.objective_names.len(), 3);
    for s in &front.solutions {
        assert_eq!(s.score.bits.weight, s.score.bits.activation);
        assert!(s.score.bits.weight.iter().all(|b| [4, 8, 16].contains(b)));
        assert!(s.score.cost.size_mb <= 6.0);
        assert!(s.score.cost.energy_uj.is_some());
    }
    assert_eq!(front.limits.max_size_mb.as_ref().unwrap().value, 6.0);
}

#[test]
fn hardware_experiment_takes_the_platform_memory_limit_and_relative_error() {
    let exp = experiment(&BITFUSION_BEACON.replace("mode = \"dynamic\"", "mode = \"none\""));
    let bf = platform("bitfusion.toml");
    let model = SyntheticModel::new();
    let limits = mohaq_beacon::limits::ResolvedLimits::resolve(&exp, 18.0, 21.2, Some(&bf));
    assert_eq!(limits.max_size_mb.as_ref().unwrap().value, 2.0);
    assert!(limits
        .max_size_mb
        .as_ref()
        .unwrap()
        .origin
        .contains("memory limit"));
    assert!((limits.max_error.value - 27.0).abs() < 1e-12);
    assert!(limits.max_error.origin.contains("float PER"));
    let problem = MohaqProblem::new(&exp, &model, Some(&bf), limits).unwrap();
    assert_eq!(problem.space().len(), 16);
    assert_eq!(problem.n_constraints(), 2);
    // All 4-bit: 2.66 MB > 2 MB is infeasible; the constraint is normalised.
    let genes = problem.genes_of(&LayerBits::uniform(4)).unwrap();
    let e = problem.evaluate(&genes).unwrap();
    assert!(
        (e.constraints[0] - (2.663 / 2.0 - 1.0)).abs() < 1e-3,
        "{:?}",
        e
    );
    assert!((e.objectives[1] + 15.750).abs() < 1e-3, "{:?}", e);
}

/// No two gene values decode to the same widths: the FC activation gene leaves out the 2 bits
/// the FC rule would turn into 4, so every gene vector is a distinct configuration.
#[test]
fn every_gene_value_is_a_distinct_configuration() {
    let exp = experiment(COMPRESSION);
    let model = SyntheticModel::new();
    let limits = mohaq_beacon::limits::ResolvedLimits::resolve(&exp, 18.0, 21.2, None);
    let problem = MohaqProblem::new(&exp, &model, None, limits).unwrap();
    let space = problem.space();
    for (gene, variable) in space.variables().iter().enumerate() {
        let mohaq_evo::Variable::Choice { values } = variable else {
            panic!("gene {gene} is not a choice");
        };
        let mut seen = std::collections::HashSet::new();
        for (index, value) in values.iter().enumerate() {
            let mut genes = problem.genes_of(&LayerBits::uniform(8)).unwrap();
            genes[gene] = index as f64;
            let bits = problem.bits_of(&genes).unwrap();
            assert!(
                seen.insert(bits),
                "gene {gene}: value {value} repeats a configuration"
            );
        }
    }
    // The FC input still reaches 4 bits, and 2-bit FC weights stay possible.
    let mut m2 = LayerBits::uniform(16);
    m2.weight[7] = 4;
    m2.activation[7] = 4;
    assert!(problem.genes_of(&m2).is_some());
    m2.weight[7] = 2;
    assert!(problem.genes_of(&m2).is_some());
}

#[test]
fn platform_that_cannot_run_the_widths_is_a_clear_error() {
    let text = COMPRESSION
        .replace(
            "kind = \"compression\"",
            "kind = \"silago\"\nplatform = \"p.toml\"",
        )
        .replace("n_gen = 8", "n_gen = 8\nwidths = [2, 4]");
    let exp = experiment(&text);
    let silago = platform("silago.toml");
    let dir = tempfile::tempdir().unwrap();
    let err = run(&exp, &SyntheticModel::new(), Some(&silago), dir.path()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("SiLago") && msg.contains("2-bit"), "{msg}");
}

#[test]
fn run_dir_of_another_experiment_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    run(
        &experiment(COMPRESSION),
        &SyntheticModel::new(),
        None,
        dir.path(),
    )
    .unwrap();
    let other = experiment(&COMPRESSION.replace("seed = 3", "seed = 4"));
    let err = run(&other, &SyntheticModel::new(), None, dir.path()).unwrap_err();
    assert!(err.to_string().contains("different experiment"), "{err}");
}

#[test]
fn dynamic_beacons_lower_errors_and_are_reused_on_resume() {
    // The paper's search, whose trajectory on this small budget meets promising candidates.
    let exp = paper(experiment(BITFUSION_BEACON));
    let bf = platform("bitfusion.toml");
    let dir = tempfile::tempdir().unwrap();
    let model = SyntheticModel::new();
    let run_dir = dir.path().join("run");
    let front = run(&exp, &model, Some(&bf), &run_dir).unwrap();
    assert!(!front.beacons.is_empty() && front.beacons.len() <= 3);
    assert_eq!(model.retrainings(), front.beacons.len());
    let beacon_scored: Vec<_> = front
        .solutions
        .iter()
        .filter(|s| s.score.beacon_error.is_some())
        .collect();
    for s in &front.solutions {
        let expected = s
            .score
            .beacon_error
            .map_or(s.score.ptq_error, |e| e.min(s.score.ptq_error));
        assert_eq!(s.score.error, expected);
    }
    assert!(
        !beacon_scored.is_empty(),
        "no solution scored with a beacon"
    );
    // Beacons are far enough apart.
    for (i, a) in front.beacons.iter().enumerate() {
        assert!(a.bits.weight_distance(&LayerBits::uniform(16)) > 5);
        for b in &front.beacons[..i] {
            assert!(a.bits.weight_distance(&b.bits) > 5);
        }
    }

    // The same run again in a new directory with the same store: same result, no retraining.
    let again = SyntheticModel::new();
    let front2 = run(&exp, &again, Some(&bf), &dir.path().join("run2")).unwrap();
    assert_eq!(objectives(&front2), objectives(&front));
    assert_eq!(again.retrainings(), 0);
    assert!(front2.beacons.iter().all(|b| b.reused_from_store));

    // Interrupted then resumed: same result, nothing evaluated or retrained twice.
    let split = dir.path().join("split");
    let store = dir.path().join("fresh-store");
    let opts = RunOptions {
        store_dir: Some(store.clone()),
        ..RunOptions::default()
    };
    let first = SyntheticModel::new();
    let mut stop = |r: &GenerationReport| {
        if r.generation == 4 {
            Control::Stop
        } else {
            Control::Continue
        }
    };
    run_search(
        &exp,
        &first,
        Some(&first),
        Some(&bf),
        &split,
        &opts,
        &mut stop,
    )
    .unwrap();
    let second = SyntheticModel::new();
    let resumed = run_search(
        &exp,
        &second,
        Some(&second),
        Some(&bf),
        &split,
        &opts,
        &mut Silent,
    )
    .unwrap();
    assert_eq!(objectives(&resumed), objectives(&front));
    assert_eq!(
        first.retrainings() + second.retrainings(),
        front.beacons.len()
    );
}

#[test]
fn corrupt_beacon_file_stops_a_resumed_run_with_a_clear_error() {
    // The paper's search, whose trajectory on this small budget meets promising candidates.
    let exp = paper(experiment(BITFUSION_BEACON));
    let bf = platform("bitfusion.toml");
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("run");
    let model = SyntheticModel::new();
    let front = run(&exp, &model, Some(&bf), &run_dir).unwrap();
    let key = &front.beacons[0].key;
    let weights = dir
        .path()
        .join("beacon-store")
        .join(format!("{key}.weights"));
    std::fs::write(&weights, b"not the weights").unwrap();
    let err = run(&exp, &model, Some(&bf), &run_dir).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("corrupt") && msg.contains(key.as_str()),
        "{msg}"
    );
}

#[test]
fn fixed_beacons_are_retrained_up_front_and_assigned_by_distance() {
    let text = BITFUSION_BEACON.replace("mode = \"dynamic\"", "mode = \"fixed\"").replace(
        "max_beacons = 3",
        "max_beacons = 3\nfixed = [[8,4,4,4, 8,4,4,4, 4,4,4, 4,4,4, 4,4], [4,2,2,2, 4,4,4,4, 4,2,2, 4,4,4, 2,4]]",
    );
    let exp = experiment(&text);
    let bf = platform("bitfusion.toml");
    let dir = tempfile::tempdir().unwrap();
    let model = SyntheticModel::new();
    let front = run(&exp, &model, Some(&bf), &dir.path().join("run")).unwrap();
    assert_eq!(front.beacons.len(), 2);
    assert_eq!(model.retrainings(), 2);
    assert!(front.beacons.iter().all(|b| b.creator.is_none()));
    assert_eq!(front.beacons[0].retrained_bits.activation[7], 16);
    for s in &front.solutions {
        if let Some(b) = s.score.beacon {
            let d = |bits: &LayerBits| s.score.bits.weight_distance(bits);
            let mut all = vec![LayerBits::uniform(16)];
            all.extend(front.beacons.iter().map(|r| r.bits));
            let best = all.iter().map(d).min().unwrap();
            assert_eq!(d(&all[b]), best);
        }
    }
}

#[test]
fn beacon_search_is_the_same_at_any_thread_count() {
    let exp = experiment(BITFUSION_BEACON);
    let bf = platform("bitfusion.toml");
    let dir = tempfile::tempdir().unwrap();
    let run_with = |threads: usize, name: &str| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let model = SyntheticModel::new();
        let run_dir = dir.path().join(name);
        let opts = RunOptions {
            store_dir: Some(dir.path().join(format!("store-{name}"))),
            ..RunOptions::default()
        };
        pool.install(|| {
            run_search(
                &exp,
                &model,
                Some(&model),
                Some(&bf),
                &run_dir,
                &opts,
                &mut Silent,
            )
        })
        .unwrap()
    };
    let one = run_with(1, "one");
    let four = run_with(4, "four");
    assert_eq!(objectives(&one), objectives(&four));
    assert_eq!(one.beacons.len(), four.beacons.len());
    for (a, b) in one.beacons.iter().zip(&four.beacons) {
        assert_eq!(a.bits, b.bits);
    }
}

/// Two searches on one run directory: the second is refused naming the first's pid (here
/// both are this process, holding the lock through two handles, which the OS lock treats like
/// two processes). It fails if `run_search` ran without taking the lock, or if the lock were
/// not released when the first holder is dropped.
#[test]
fn a_second_search_on_a_locked_run_dir_is_refused_with_the_holders_pid() {
    let exp = experiment(COMPRESSION);
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("run");
    let model = SyntheticModel::new();
    let held = mohaq_beacon::run::lock_run_dir(&run_dir).unwrap();
    let err = run(&exp, &model, None, &run_dir).unwrap_err();
    assert!(matches!(err, RunError::Locked(_)), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("pid {}", std::process::id())),
        "{err}"
    );
    assert_eq!(model.evaluations(), 0, "nothing ran");
    drop(held);
    assert!(run(&exp, &model, None, &run_dir).unwrap().completed);
}

/// `max_evaluations` stops a run at exactly that many evaluations, before `n_gen`, and a rerun
/// with a larger cap resumes it (a cut generation is kept, so the trajectory then differs from
/// an uncut run's).
#[test]
fn a_run_stops_at_exactly_its_evaluation_cap_and_resumes_past_it() {
    let mut exp = experiment(COMPRESSION);
    exp.search.n_gen = 1_000;
    let model = SyntheticModel::new();
    let dir = tempfile::tempdir().unwrap();
    let capped = |max: usize| RunOptions {
        max_evaluations: Some(max),
        ..RunOptions::default()
    };
    let front = run_search(
        &exp,
        &model,
        None,
        None,
        dir.path(),
        &capped(23),
        &mut Silent,
    )
    .unwrap();
    assert_eq!(front.n_evaluations, 23);
    assert!(!front.solutions.is_empty());
    let front = run_search(
        &exp,
        &model,
        None,
        None,
        dir.path(),
        &capped(41),
        &mut Silent,
    )
    .unwrap();
    assert_eq!(front.n_evaluations, 41);
    assert!(
        front.resumed_from.is_some(),
        "the second call resumed the first"
    );
}

/// The default search (surrogate-assisted) spends the evaluations the
/// experiment plans, checkpoints by replay, and a run stopped after a few batches resumes to
/// the uninterrupted run's front without evaluating anything twice; `max_evaluations` caps it
/// exactly and a larger cap resumes it; `strategy = "paper"` runs the engine generation by
/// generation instead.
#[test]
fn default_search_resumes_to_the_same_front_and_honours_its_cap() {
    use mohaq_beacon::SearchStrategy;
    use mohaq_evo::strategy::resumable::STRATEGY_CHECKPOINT_FILE;

    let exp = experiment(COMPRESSION);
    assert_eq!(exp.search.strategy(), SearchStrategy::Default);
    let dir = tempfile::tempdir().unwrap();
    let model = SyntheticModel::new();
    let whole = run(&exp, &model, None, &dir.path().join("whole")).unwrap();
    assert!(whole.completed);
    assert_eq!(whole.n_evaluations, exp.search.planned_evaluations());
    assert_eq!(model.evaluations(), whole.n_evaluations);
    assert!(dir
        .path()
        .join("whole")
        .join(STRATEGY_CHECKPOINT_FILE)
        .is_file());

    let first = SyntheticModel::new();
    let mut stop_after_3 = |r: &GenerationReport| {
        if r.generation == 3 {
            Control::Stop
        } else {
            Control::Continue
        }
    };
    let split = dir.path().join("split");
    let partial = run_search(
        &exp,
        &first,
        None,
        None,
        &split,
        &options(),
        &mut stop_after_3,
    )
    .unwrap();
    assert!(!partial.completed);
    assert!(partial.n_evaluations < whole.n_evaluations);
    let second = SyntheticModel::new();
    let resumed = run(&exp, &second, None, &split).unwrap();
    assert!(resumed.completed);
    assert_eq!(resumed.resumed_from, Some(3));
    assert_eq!(objectives(&resumed), objectives(&whole));
    assert_eq!(
        first.evaluations() + second.evaluations(),
        whole.n_evaluations
    );

    let capped = |max: usize| RunOptions {
        max_evaluations: Some(max),
        ..RunOptions::default()
    };
    let unlimited = exp.clone().without_generation_limit();
    let cap_dir = dir.path().join("capped");
    let model = SyntheticModel::new();
    let front = run_search(
        &unlimited,
        &model,
        None,
        None,
        &cap_dir,
        &capped(23),
        &mut Silent,
    )
    .unwrap();
    assert_eq!(front.n_evaluations, 23);
    let front = run_search(
        &unlimited,
        &model,
        None,
        None,
        &cap_dir,
        &capped(57),
        &mut Silent,
    )
    .unwrap();
    assert_eq!(front.n_evaluations, 57);
    assert!(front.resumed_from.is_some());
    assert_eq!(
        model.evaluations(),
        57,
        "the first 23 were replayed, not repeated"
    );

    let mut paper = exp.clone();
    paper.search.strategy = Some(SearchStrategy::Paper);
    let paper_dir = dir.path().join("paper");
    let front = run(&paper, &SyntheticModel::new(), None, &paper_dir).unwrap();
    assert!(paper_dir.join("checkpoint.json").is_file());
    assert!(!paper_dir.join(STRATEGY_CHECKPOINT_FILE).is_file());
    assert_eq!(front.generations, exp.search.n_gen);
}
