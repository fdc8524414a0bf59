//! The MOHAQ problem as a layer-wise problem: options cover the genes, costs add up to the
//! speedup objective, and the sensitivity strategies run on it (synthetic model).

use std::path::{Path, PathBuf};

use mohaq_beacon::experiment::Experiment;
use mohaq_beacon::limits::ResolvedLimits;
use mohaq_beacon::problem::MohaqProblem;
use mohaq_beacon::synthetic::SyntheticModel;
use mohaq_evo::strategy::greedy_descent::GreedyDescent;
use mohaq_evo::strategy::knapsack_search::KnapsackSearch;
use mohaq_evo::strategy::layerwise::{cost_of_choice, genes_of_choice};
use mohaq_evo::strategy::random_search::RandomSearch;
use mohaq_evo::{LayerwiseProblem, Problem, Strategy};
use mohaq_hw::Platform;

fn platform(name: &str) -> Platform {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../platforms")
        .join(name);
    Platform::from_toml_file(path).unwrap()
}

fn experiment(kind: &str, platform: &str, size: &str) -> Experiment {
    let text = format!(
        r#"
name = "{kind}"
kind = "{kind}"
platform = "{platform}"
[model]
config = "m.toml"
weights = "m.safetensors"
[search]
pop_size = 12
n_offsprings = 4
n_gen = 8
[constraints]
max_error = {{ relative = 1.5 }}
{size}
"#
    );
    Experiment::from_toml_str(&text, Path::new("test.toml")).unwrap()
}

/// For random candidates, the summed layer costs are the paper's speedup objective exactly.
fn check_costs_add_up(problem: &MohaqProblem<'_, SyntheticModel>) {
    let options = problem.layer_options();
    let n = problem.space().len();
    for layer in &options {
        assert!(layer.iter().all(|o| o.cost.is_finite()));
    }
    // Every gene is covered by exactly one layer.
    let mut covered = vec![0; n];
    for layer in &options {
        for &(g, _) in &layer[0].genes {
            covered[g] += 1;
        }
    }
    assert!(covered.iter().all(|&c| c == 1), "{covered:?}");
    let mut choice = vec![0usize; options.len()];
    for step in 0..50usize {
        for (l, layer) in options.iter().enumerate() {
            choice[l] = (step * 7 + l * 3 + step / 3) % layer.len();
        }
        let genes = genes_of_choice(n, &options, &choice);
        let e = problem.evaluate(&genes).unwrap();
        let cost = cost_of_choice(&options, &choice);
        assert!(
            (cost - e.objectives[1]).abs() < 1e-9,
            "{cost} vs {:?}",
            e.objectives
        );
    }
}

#[test]
fn layer_costs_add_up_to_the_speedup_objective() {
    let model = SyntheticModel::new();
    let silago = platform("silago.toml");
    let exp = experiment("silago", "p.toml", "max_size_mb = { absolute = 6.0 }");
    let limits = ResolvedLimits::resolve(&exp, 18.0, 21.2, Some(&silago));
    let problem = MohaqProblem::new(&exp, &model, Some(&silago), limits).unwrap();
    assert_eq!(problem.layer_options()[0].len(), 3);
    check_costs_add_up(&problem);
    let bf = platform("bitfusion.toml");
    let exp = experiment("bitfusion", "p.toml", "");
    let limits = ResolvedLimits::resolve(&exp, 18.0, 21.2, Some(&bf));
    let problem = MohaqProblem::new(&exp, &model, Some(&bf), limits).unwrap();
    assert_eq!(problem.layer_options()[0].len(), 16);
    assert_eq!(
        problem.layer_options()[7].len(),
        12,
        "FC input never 2 bits"
    );
    check_costs_add_up(&problem);
}

#[test]
fn sensitivity_strategies_run_on_the_mohaq_problem() {
    let model = SyntheticModel::new();
    let silago = platform("silago.toml");
    let exp = experiment("silago", "p.toml", "max_size_mb = { absolute = 6.0 }");
    let limits = ResolvedLimits::resolve(&exp, 18.0, 21.2, Some(&silago));
    let problem = MohaqProblem::new(&exp, &model, Some(&silago), limits).unwrap();
    let sensitivity = problem.second_order_sensitivity().unwrap().unwrap();
    assert_eq!(sensitivity[0][0], 0.0, "16 bits adds nothing");
    let greedy = GreedyDescent.run(&problem, 60, 0).unwrap();
    // 1 reference + 8 layers × 2 lower widths, then at most 16 descent steps.
    assert!(greedy.len() >= 17 && greedy.len() <= 33, "{}", greedy.len());
    let knapsack = KnapsackSearch.run(&problem, 30, 0).unwrap();
    assert!(!knapsack.is_empty() && knapsack.len() <= 30);
    let random = RandomSearch.run(&problem, 30, 0).unwrap();
    assert_eq!(random.len(), 30);
    // The knapsack's answers are good: its front dominates random search's at equal budget.
    let reference = vec![60.0, 0.0, 10.0];
    let hv = |p: &Vec<Vec<f64>>| mohaq_evo::hypervolume(p, &reference).unwrap();
    assert!(
        hv(&knapsack.front_after(30)) > hv(&random.front_after(30)),
        "knapsack {} vs random {}",
        hv(&knapsack.front_after(30)),
        hv(&random.front_after(30))
    );
}
