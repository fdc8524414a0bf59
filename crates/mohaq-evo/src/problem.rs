//! What the search optimises: the decision space, the evaluation result and the [`Problem`] trait.
//!
//! Every gene is stored as an `f64`, as pymoo does. Integer genes hold integral values; a gene
//! whose values come from a list (bit widths {2, 4, 8, 16}, say) holds the *index* into that list,
//! so the integer operators see the ordered range `0..len` and a small step of an index is a small
//! step of the value. [`Space::decode`] turns genes back into the values a problem works with.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::SpaceError;

/// One candidate: one `f64` per variable (integral for integer and allowed-value genes).
pub type Genes = Vec<f64>;

/// The domain of one decision variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Variable {
    /// An integer in `lo..=hi`.
    Integer { lo: i64, hi: i64 },
    /// One of an ordered list of allowed values; the gene is the index into `values`.
    Choice { values: Vec<i64> },
    /// A real number in `lo..=hi`.
    Real { lo: f64, hi: f64 },
}

impl Variable {
    /// Bounds the variation operators work within (indices for [`Variable::Choice`]).
    pub fn bounds(&self) -> (f64, f64) {
        match self {
            Variable::Integer { lo, hi } => (*lo as f64, *hi as f64),
            Variable::Choice { values } => (0.0, values.len().saturating_sub(1) as f64),
            Variable::Real { lo, hi } => (*lo, *hi),
        }
    }

    /// Whether operators must round this gene (integer and allowed-value genes).
    pub fn is_discrete(&self) -> bool {
        !matches!(self, Variable::Real { .. })
    }

    /// Number of distinct values, or `None` for a real variable.
    pub fn cardinality(&self) -> Option<u128> {
        match self {
            Variable::Integer { lo, hi } => Some((*hi as i128 - *lo as i128 + 1) as u128),
            Variable::Choice { values } => Some(values.len() as u128),
            Variable::Real { .. } => None,
        }
    }

    /// Whether `gene` is a legal value of this variable.
    pub fn contains(&self, gene: f64) -> bool {
        let (lo, hi) = self.bounds();
        gene.is_finite()
            && gene >= lo
            && gene <= hi
            && (!self.is_discrete() || gene == gene.round())
    }
}

/// The decision space: one [`Variable`] per gene, validated on construction (deserialising
/// validates too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Variable>", into = "Vec<Variable>")]
pub struct Space {
    variables: Vec<Variable>,
}

impl TryFrom<Vec<Variable>> for Space {
    type Error = SpaceError;
    fn try_from(variables: Vec<Variable>) -> Result<Self, SpaceError> {
        Self::new(variables)
    }
}

impl From<Space> for Vec<Variable> {
    fn from(space: Space) -> Self {
        space.variables
    }
}

impl Space {
    /// Checks every variable (non-empty, ordered, finite bounds) and builds the space.
    pub fn new(variables: Vec<Variable>) -> Result<Self, SpaceError> {
        if variables.is_empty() {
            return Err(SpaceError::Empty);
        }
        for (index, v) in variables.iter().enumerate() {
            match v {
                Variable::Integer { lo, hi } if lo > hi => {
                    return Err(SpaceError::BadBounds {
                        index,
                        lo: *lo as f64,
                        hi: *hi as f64,
                    })
                }
                Variable::Choice { values } if values.is_empty() => {
                    return Err(SpaceError::NoChoices { index })
                }
                Variable::Real { lo, hi } if !(lo.is_finite() && hi.is_finite() && lo <= hi) => {
                    return Err(SpaceError::BadBounds {
                        index,
                        lo: *lo,
                        hi: *hi,
                    })
                }
                _ => {}
            }
        }
        Ok(Self { variables })
    }

    /// `n` copies of the same variable (the common case: every gene a bit width).
    pub fn repeat(variable: Variable, n: usize) -> Result<Self, SpaceError> {
        Self::new(vec![variable; n])
    }

    pub fn variables(&self) -> &[Variable] {
        &self.variables
    }

    pub fn len(&self) -> usize {
        self.variables.len()
    }

    pub fn is_empty(&self) -> bool {
        self.variables.is_empty()
    }

    /// Whether `genes` has the right length and every gene is legal.
    pub fn contains(&self, genes: &[f64]) -> bool {
        genes.len() == self.variables.len()
            && self
                .variables
                .iter()
                .zip(genes)
                .all(|(v, &g)| v.contains(g))
    }

    /// Number of candidates if every variable is discrete (saturating), `None` with a real gene.
    pub fn cardinality(&self) -> Option<u128> {
        self.variables.iter().try_fold(1u128, |acc, v| {
            v.cardinality().map(|c| acc.saturating_mul(c))
        })
    }

    /// The values a problem sees: allowed-value genes mapped from index to value, others as-is.
    ///
    /// Genes outside the space (which the engine never produces) are clamped to the list.
    pub fn decode(&self, genes: &[f64]) -> Vec<f64> {
        self.variables
            .iter()
            .zip(genes)
            .map(|(v, &g)| match v {
                Variable::Choice { values } => {
                    let i = (g.max(0.0) as usize).min(values.len() - 1);
                    values[i] as f64
                }
                _ => g,
            })
            .collect()
    }

    /// The inverse of [`Space::decode`] for one gene: the gene that stands for `value`.
    pub fn encode_value(&self, index: usize, value: f64) -> Option<f64> {
        let v = self.variables.get(index)?;
        match v {
            Variable::Choice { values } => values
                .iter()
                .position(|&x| x as f64 == value)
                .map(|i| i as f64),
            _ if v.contains(value) => Some(value),
            _ => None,
        }
    }
}

/// The result of evaluating one candidate: objectives (all minimised) and constraints (`g <= 0`
/// is satisfied).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub objectives: Vec<f64>,
    pub constraints: Vec<f64>,
}

impl Evaluation {
    pub fn new(objectives: Vec<f64>, constraints: Vec<f64>) -> Self {
        Self {
            objectives,
            constraints,
        }
    }

    /// An evaluation of an unconstrained problem.
    pub fn unconstrained(objectives: Vec<f64>) -> Self {
        Self::new(objectives, Vec::new())
    }

    /// Total constraint violation `Σ max(0, g_i)` (pymoo's CV); zero means feasible.
    ///
    /// Constraints should be normalised by the problem so that their violations are comparable.
    pub fn violation(&self) -> f64 {
        self.constraints.iter().map(|g| g.max(0.0)).sum()
    }

    pub fn is_feasible(&self) -> bool {
        self.violation() <= 0.0
    }
}

/// A multi-objective problem.
///
/// `evaluate` must be a pure function of the genes: the engine caches results and a resumed run
/// relies on getting the same numbers again.
pub trait Problem: Sync {
    /// Why an evaluation can fail; a failure stops the run after checkpointing what finished.
    type Error: std::error::Error + Send + Sync + 'static;

    fn space(&self) -> &Space;
    fn n_objectives(&self) -> usize;
    fn n_constraints(&self) -> usize;

    /// Evaluates one candidate (genes as the engine stores them; see [`Space::decode`]).
    fn evaluate(&self, genes: &[f64]) -> Result<Evaluation, Self::Error>;

    /// Evaluates a batch; the result `i` belongs to candidate `i`.
    ///
    /// The default runs [`Problem::evaluate`] in parallel with rayon; override it when the
    /// problem batches better itself (one model pass over many candidates, say).
    fn evaluate_batch(&self, batch: &[Genes]) -> Vec<Result<Evaluation, Self::Error>> {
        batch.par_iter().map(|g| self.evaluate(g)).collect()
    }
}
