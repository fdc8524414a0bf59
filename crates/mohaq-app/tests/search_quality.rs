//! E5 on the synthetic model: indicators against an exhaustive front and against the union of
//! fronts, every method at every budget.

use std::path::Path;

use mohaq_app::search_quality::{compare_strategies, comparison_markdown};
use mohaq_beacon::experiment::Experiment;
use mohaq_beacon::limits::ResolvedLimits;
use mohaq_beacon::problem::MohaqProblem;
use mohaq_beacon::synthetic::SyntheticModel;
use mohaq_evo::strategy::lookup::LookupProblem;
use mohaq_evo::{exhaustive_front, EvaluationArchive};
use mohaq_hw::Platform;

const SILAGO_TWO_WIDTHS: &str = r#"
name = "silago-small"
kind = "silago"
platform = "p.toml"
[model]
config = "m.toml"
weights = "m.safetensors"
[search]
pop_size = 12
n_offsprings = 4
n_gen = 8
widths = [4, 8]
[constraints]
max_error = { relative = 1.5 }
max_size_mb = { absolute = 6.0 }
"#;

#[test]
fn strategies_are_scored_against_the_exhaustive_front_and_the_union_of_fronts() {
    let platform = Platform::from_toml_file(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../platforms/silago.toml"),
    )
    .unwrap();
    let exp = Experiment::from_toml_str(SILAGO_TWO_WIDTHS, Path::new("t.toml")).unwrap();
    let model = SyntheticModel::new();
    let limits = ResolvedLimits::resolve(&exp, 18.0, 21.2, Some(&platform));
    let problem = MohaqProblem::new(&exp, &model, Some(&platform), limits).unwrap();
    let mut archive = EvaluationArchive::new();
    let truth: Vec<Vec<f64>> = exhaustive_front(&problem, &mut archive, 1000, 64, |_, _, _| {})
        .unwrap()
        .into_iter()
        .map(|r| r.evaluation.objectives)
        .collect();
    let lookup = LookupProblem::new(&problem, &archive);
    let names = vec!["e".into(), "s".into(), "j".into()];
    let budgets = [20, 60, 256];
    let c = compare_strategies(
        "silago-small",
        names.clone(),
        &lookup,
        Some((truth.clone(), archive.len())),
        &budgets,
        &[1, 2, 3],
    )
    .unwrap();
    assert!(c.reference_kind.contains("256 candidates"));
    assert_eq!(c.reference_front, truth);
    assert_eq!(c.methods.len(), 7);
    for m in &c.methods {
        assert_eq!(m.rows.len(), budgets.len(), "{}", m.name);
        for r in &m.rows {
            assert!(r.hv_ratio.max <= 1.0 + 1e-9, "{}: {:?}", m.name, r);
            assert!(r.hv_ratio.min <= r.hv_ratio.median && r.hv_ratio.median <= r.hv_ratio.max);
            assert!(r.evaluations <= r.budget as f64);
        }
    }
    // Random search given the whole space finds the whole front.
    let random = &c.methods[0].rows[2];
    assert_eq!(random.hv_ratio.min, 1.0);
    assert_eq!(random.recovered.min, truth.len() as f64);
    let table = comparison_markdown(&c);
    for m in &c.methods {
        assert!(table.contains(&m.name), "{table}");
    }
    // Without an exhaustive front the reference is the union: no method beats it.
    let u = compare_strategies("silago-small", names, &lookup, None, &budgets, &[1, 2]).unwrap();
    assert!(u.reference_kind.contains("union"));
    let best = u
        .methods
        .iter()
        .flat_map(|m| m.rows.iter().map(|r| r.hv_ratio.max))
        .fold(0.0, f64::max);
    assert!((best - 1.0).abs() < 1e-9, "{best}");
}
