//! Standard real-valued test problems (ZDT1–3, DTLZ2) for validating the engine against
//! published behaviour and against pymoo.

use std::convert::Infallible;
use std::f64::consts::PI;

use crate::problem::{Evaluation, Problem, Space, Variable};

/// Which test function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestFunction {
    Zdt1,
    Zdt2,
    Zdt3,
    Dtlz2,
}

/// A test problem over `[0, 1]^n_var`.
#[derive(Debug, Clone)]
pub struct TestProblem {
    function: TestFunction,
    n_obj: usize,
    space: Space,
}

/// ZDT3's front is disconnected: these are its f1 intervals (as pymoo tabulates them).
const ZDT3_REGIONS: [(f64, f64); 5] = [
    (0.0, 0.083_001_534_9),
    (0.182_228_780, 0.257_762_363_4),
    (0.409_313_674_8, 0.453_882_104_1),
    (0.618_396_794_4, 0.652_511_703_8),
    (0.823_331_798_3, 0.851_832_865_4),
];

impl TestProblem {
    /// ZDT1, ZDT2 or ZDT3 with `n_var` variables (30 in the literature), two objectives.
    pub fn zdt(function: TestFunction, n_var: usize) -> Self {
        let n_var = n_var.max(2);
        Self {
            function,
            n_obj: 2,
            space: Space::repeat(Variable::Real { lo: 0.0, hi: 1.0 }, n_var)
                .expect("unit bounds with n_var >= 2 form a valid space"),
        }
    }

    /// DTLZ2 with `n_obj` objectives and `n_var` variables (n_var >= n_obj; 12 for 3 objectives).
    pub fn dtlz2(n_obj: usize, n_var: usize) -> Self {
        let n_obj = n_obj.max(2);
        let n_var = n_var.max(n_obj);
        Self {
            function: TestFunction::Dtlz2,
            n_obj,
            space: Space::repeat(Variable::Real { lo: 0.0, hi: 1.0 }, n_var)
                .expect("unit bounds with n_var >= 2 form a valid space"),
        }
    }

    pub fn function(&self) -> TestFunction {
        self.function
    }

    /// `n` points of the true Pareto front (for IGD and for checking hypervolumes).
    pub fn true_front(&self, n: usize) -> Vec<Vec<f64>> {
        let n = n.max(2);
        let t = |i: usize| i as f64 / (n - 1) as f64;
        match self.function {
            TestFunction::Zdt1 => (0..n).map(|i| vec![t(i), 1.0 - t(i).sqrt()]).collect(),
            TestFunction::Zdt2 => (0..n).map(|i| vec![t(i), 1.0 - t(i) * t(i)]).collect(),
            TestFunction::Zdt3 => {
                let per_region = n.div_ceil(ZDT3_REGIONS.len()).max(2);
                ZDT3_REGIONS
                    .iter()
                    .flat_map(|&(a, b)| {
                        (0..per_region).map(move |i| {
                            let f1 = a + (b - a) * i as f64 / (per_region - 1) as f64;
                            vec![f1, 1.0 - f1.sqrt() - f1 * (10.0 * PI * f1).sin()]
                        })
                    })
                    .collect()
            }
            TestFunction::Dtlz2 => {
                // A grid of angles over the positive orthant of the unit sphere.
                let mut points = Vec::new();
                let angles = n;
                let mut idx = vec![0usize; self.n_obj - 1];
                loop {
                    let x: Vec<f64> = idx
                        .iter()
                        .map(|&k| k as f64 / (angles - 1) as f64)
                        .collect();
                    points.push(dtlz2_objectives(&x, 0.0, self.n_obj));
                    let mut k = 0;
                    loop {
                        if k == idx.len() {
                            return points;
                        }
                        idx[k] += 1;
                        if idx[k] < angles {
                            break;
                        }
                        idx[k] = 0;
                        k += 1;
                    }
                }
            }
        }
    }
}

fn dtlz2_objectives(position: &[f64], g: f64, n_obj: usize) -> Vec<f64> {
    (0..n_obj)
        .map(|m| {
            let mut f = 1.0 + g;
            for x in &position[..n_obj - 1 - m] {
                f *= (x * PI / 2.0).cos();
            }
            if m > 0 {
                f *= (position[n_obj - 1 - m] * PI / 2.0).sin();
            }
            f
        })
        .collect()
}

impl Problem for TestProblem {
    type Error = Infallible;

    fn space(&self) -> &Space {
        &self.space
    }

    fn n_objectives(&self) -> usize {
        self.n_obj
    }

    fn n_constraints(&self) -> usize {
        0
    }

    fn evaluate(&self, x: &[f64]) -> Result<Evaluation, Infallible> {
        let objectives = match self.function {
            TestFunction::Dtlz2 => {
                let g: f64 = x[self.n_obj - 1..]
                    .iter()
                    .map(|v| (v - 0.5) * (v - 0.5))
                    .sum();
                dtlz2_objectives(x, g, self.n_obj)
            }
            zdt => {
                let f1 = x[0];
                let g = 1.0 + 9.0 * x[1..].iter().sum::<f64>() / (x.len() - 1) as f64;
                let r = f1 / g;
                let h = match zdt {
                    TestFunction::Zdt1 => 1.0 - r.sqrt(),
                    TestFunction::Zdt2 => 1.0 - r * r,
                    _ => 1.0 - r.sqrt() - r * (10.0 * PI * f1).sin(),
                };
                vec![f1, g * h]
            }
        };
        Ok(Evaluation::unconstrained(objectives))
    }
}
