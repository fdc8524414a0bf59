//! An archive that keeps only mutually non-dominated points, fed one point at a time.

use crate::dominance::{relation, Relation};

/// Non-dominated points with a payload each (genes, an index...), in insertion order.
///
/// Points with equal objectives are all kept: neither dominates the other.
#[derive(Debug, Clone)]
pub struct ParetoArchive<T> {
    members: Vec<(Vec<f64>, T)>,
}

impl<T> Default for ParetoArchive<T> {
    fn default() -> Self {
        Self {
            members: Vec::new(),
        }
    }
}

impl<T> ParetoArchive<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the point unless a member dominates it; drops the members it dominates.
    /// Returns whether the point was added.
    pub fn insert(&mut self, objectives: Vec<f64>, payload: T) -> bool {
        let mut dominated_members = false;
        for (member, _) in &self.members {
            match relation(member, &objectives) {
                Relation::Dominates => return false,
                Relation::Dominated => dominated_members = true,
                Relation::Indifferent => {}
            }
        }
        if dominated_members {
            self.members
                .retain(|(member, _)| relation(&objectives, member) != Relation::Dominates);
        }
        self.members.push((objectives, payload));
        true
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Members as (objectives, payload).
    pub fn members(&self) -> &[(Vec<f64>, T)] {
        &self.members
    }

    /// The objective vectors only.
    pub fn points(&self) -> Vec<Vec<f64>> {
        self.members.iter().map(|(p, _)| p.clone()).collect()
    }

    pub fn into_members(self) -> Vec<(Vec<f64>, T)> {
        self.members
    }
}
