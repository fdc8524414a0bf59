//! Runs NSGA-II on a standard test problem and prints the final non-dominated front as CSV.
//!
//! ```text
//! cargo run --release -p mohaq-evo --example zdt -- --problem zdt1 --pop 100 --gens 200 --seed 1
//! ```
//!
//! `--problem` is zdt1, zdt2, zdt3 (30 variables, lines `f1,f2`) or dtlz2 (12 variables,
//! 3 objectives, lines `f1,f2,f3`). Settings are pymoo's NSGA-II defaults: offspring = population,
//! SBX (prob 0.9, η 15), polynomial mutation (η 20, prob 1/n). No header line.

use std::process::ExitCode;

use mohaq_evo::test_problems::{TestFunction, TestProblem};
use mohaq_evo::{Nsga2, Nsga2Config, Silent};

struct Args {
    problem: TestProblem,
    pop: usize,
    gens: usize,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut problem = None;
    let (mut pop, mut gens, mut seed) = (100usize, 200usize, 1u64);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--problem" => {
                problem = Some(match value()?.as_str() {
                    "zdt1" => TestProblem::zdt(TestFunction::Zdt1, 30),
                    "zdt2" => TestProblem::zdt(TestFunction::Zdt2, 30),
                    "zdt3" => TestProblem::zdt(TestFunction::Zdt3, 30),
                    "dtlz2" => TestProblem::dtlz2(3, 12),
                    other => return Err(format!("unknown problem {other:?}")),
                })
            }
            "--pop" => pop = value()?.parse().map_err(|e| format!("--pop: {e}"))?,
            "--gens" => gens = value()?.parse().map_err(|e| format!("--gens: {e}"))?,
            "--seed" => seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let problem = problem.ok_or("--problem zdt1|zdt2|zdt3|dtlz2 is required")?;
    Ok(Args {
        problem,
        pop,
        gens,
        seed,
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("zdt: {message}\nusage: zdt --problem zdt1|zdt2|zdt3|dtlz2 [--pop N] [--gens N] [--seed S]");
            return ExitCode::from(2);
        }
    };
    let config = Nsga2Config::pymoo_defaults(args.pop, args.gens, args.seed);
    let outcome = match Nsga2::new(config).and_then(|engine| engine.run(&args.problem, &mut Silent))
    {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!("zdt: {e}");
            return ExitCode::FAILURE;
        }
    };
    for member in outcome.state.population_front() {
        let line: Vec<String> = member.objectives().iter().map(|f| f.to_string()).collect();
        println!("{}", line.join(","));
    }
    ExitCode::SUCCESS
}
