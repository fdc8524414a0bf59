//! The algorithm's own work per generation (population 100, 100 offspring, 2 objectives) on a
//! trivial problem, so that what is measured is selection, variation, duplicate elimination,
//! cache look-ups, sorting, crowding and survival. Target: under 1 ms.
//!
//! `cargo bench -p mohaq-evo --bench nsga2 -- --warm-up-time 1 --measurement-time 3`

use std::convert::Infallible;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use mohaq_evo::test_problems::{TestFunction, TestProblem};
use mohaq_evo::{Evaluation, Genes, Nsga2, Nsga2Config, Nsga2State, Problem, Space};

/// ZDT1 evaluated on the calling thread: removes rayon's dispatch from the figure.
struct SequentialZdt1(TestProblem);

impl Problem for SequentialZdt1 {
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
    fn evaluate_batch(&self, batch: &[Genes]) -> Vec<Result<Evaluation, Infallible>> {
        batch.iter().map(|g| self.evaluate(g)).collect()
    }
}

/// A state 20 generations into a run, so the population is sorted into realistic fronts.
fn warmed_up<P: Problem>(engine: &Nsga2, problem: &P) -> Nsga2State {
    let mut state = Nsga2State::new(engine.config().seed);
    for _ in 0..20 {
        engine.step(problem, &mut state).expect("ZDT1 cannot fail");
    }
    state
}

fn generation(c: &mut Criterion) {
    let engine = Nsga2::new(Nsga2Config::pymoo_defaults(100, 1000, 1)).expect("valid settings");
    let mut group = c.benchmark_group("nsga2_generation_pop100_2obj");
    let parallel = TestProblem::zdt(TestFunction::Zdt1, 30);
    let state = warmed_up(&engine, &parallel);
    group.bench_function("zdt1_rayon_evaluation", |b| {
        b.iter_batched(
            || state.clone(),
            |mut s| {
                engine.step(&parallel, &mut s).expect("ZDT1 cannot fail");
                s
            },
            BatchSize::LargeInput,
        )
    });
    let sequential = SequentialZdt1(TestProblem::zdt(TestFunction::Zdt1, 30));
    let state = warmed_up(&engine, &sequential);
    group.bench_function("zdt1_sequential_evaluation", |b| {
        b.iter_batched(
            || state.clone(),
            |mut s| {
                engine.step(&sequential, &mut s).expect("ZDT1 cannot fail");
                s
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, generation);
criterion_main!(benches);
