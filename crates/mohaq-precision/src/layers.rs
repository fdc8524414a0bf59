//! A model's matrix layers as the search sees them: a name and a role each, in layer order.

use serde::{Deserialize, Serialize};

use crate::error::GeneError;
use crate::width::BitWidth;

/// The part a matrix layer plays; it fixes the layer's place in the gene order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MatrixRole {
    /// The input matrix of a recurrent layer (the SRU's W, an LSTM's or GRU's W_x).
    Input,
    /// The hidden-to-hidden matrix of a recurrent layer (an LSTM's or GRU's W_h; the SRU has
    /// none, its recurrence is elementwise).
    Recurrent,
    /// A projection between recurrent layers (P1.. of the paper).
    Projection,
    /// The output layer (FC). Its input activation is never 2-bit ([`crate::rule`]).
    Output,
}

impl MatrixRole {
    /// The gene groups in order: all input matrices, then recurrent ones, then projections,
    /// then the output layer — for the SRU the paper's L0..L3 | P1..P3 | FC.
    pub const GENE_ORDER: [MatrixRole; 4] = [
        MatrixRole::Input,
        MatrixRole::Recurrent,
        MatrixRole::Projection,
        MatrixRole::Output,
    ];
}

/// Weight and input-activation width of one matrix layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LayerWidths {
    pub weight: BitWidth,
    pub activation: BitWidth,
}

impl LayerWidths {
    /// Weights and activations at one width.
    pub const fn uniform(bits: BitWidth) -> Self {
        Self {
            weight: bits,
            activation: bits,
        }
    }
}

/// The matrix layers of a model in layer order, each with its role. Exactly one output layer,
/// and it is the last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerTable {
    names: Vec<String>,
    roles: Vec<MatrixRole>,
}

impl LayerTable {
    pub fn new<S: Into<String>>(
        layers: impl IntoIterator<Item = (S, MatrixRole)>,
    ) -> Result<Self, GeneError> {
        let (names, roles): (Vec<String>, Vec<MatrixRole>) =
            layers.into_iter().map(|(n, r)| (n.into(), r)).unzip();
        let outputs = roles.iter().filter(|r| **r == MatrixRole::Output).count();
        if outputs != 1 || roles.last() != Some(&MatrixRole::Output) {
            return Err(GeneError::Table(format!(
                "needs exactly one output layer, last; got roles {roles:?}"
            )));
        }
        Ok(Self { names, roles })
    }

    /// An SRU with `layers` recurrent layers: L0..L{n−1} (input matrices), P1..P{n−1}
    /// (projections), FC — the layer order of the model and of the paper.
    pub fn sru(layers: usize) -> Self {
        let table = (0..layers)
            .map(|i| (format!("L{i}"), MatrixRole::Input))
            .chain((1..layers).map(|i| (format!("P{i}"), MatrixRole::Projection)))
            .chain([("FC".to_string(), MatrixRole::Output)]);
        Self::new(table).expect("an SRU table has one output layer, last")
    }

    /// The paper's SRU (4 layers, 8 matrix layers).
    pub fn paper_sru() -> Self {
        Self::sru(4)
    }

    pub fn len(&self) -> usize {
        self.roles.len()
    }

    pub fn is_empty(&self) -> bool {
        self.roles.is_empty()
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn roles(&self) -> &[MatrixRole] {
        &self.roles
    }

    /// Index of the output layer (the last).
    pub fn output_layer(&self) -> usize {
        self.roles.len() - 1
    }
}
