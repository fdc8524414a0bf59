//! The exact multiple-choice knapsack behind HAWQ-V3-style search: one option per layer,
//! minimising the summed sensitivity under a budget on the summed cost, for every budget at once.
//!
//! Both sums are additive over layers, so a partial choice (over the first layers) that another
//! partial choice beats in both cost and sensitivity can never be part of an optimum: merging
//! the layers one at a time and keeping only the lower-left staircase of (cost, sensitivity) is
//! exact, and the final staircase holds an optimal choice for every budget.
//!
//! The staircase of a sum of layers can grow with the product of their option counts (Bit
//! Fusion's 16 width pairs per layer over 8 layers). Beyond [`EXACT_LIMIT`] partial choices it is
//! thinned to that many, evenly spread in cost, so memory stays bounded; within it (SiLago, and
//! every space whose staircase stays small) the result is exact.

use std::cmp::Ordering;

use crate::strategy::LayerOption;

/// Most partial choices kept after each layer before thinning.
pub const EXACT_LIMIT: usize = 20_000;

/// One optimal choice: the least total sensitivity at total cost `cost` or less.
#[derive(Debug, Clone, PartialEq)]
pub struct KnapsackSolution {
    /// Option index per layer.
    pub choice: Vec<usize>,
    pub cost: f64,
    pub sensitivity: f64,
}

/// The optimal choices for all budgets, cheapest first, sensitivity strictly falling. Options
/// whose sensitivity is `None` (unmeasured) are left out.
pub fn knapsack_front(
    options: &[Vec<LayerOption>],
    sensitivity: &[Vec<Option<f64>>],
) -> Vec<KnapsackSolution> {
    let mut partial = vec![KnapsackSolution {
        choice: Vec::new(),
        cost: 0.0,
        sensitivity: 0.0,
    }];
    for (layer, row) in options.iter().zip(sensitivity) {
        let mut next = Vec::with_capacity(partial.len() * layer.len());
        for p in &partial {
            for (k, (option, s)) in layer.iter().zip(row).enumerate() {
                if let Some(s) = s {
                    let mut choice = p.choice.clone();
                    choice.push(k);
                    next.push(KnapsackSolution {
                        choice,
                        cost: p.cost + option.cost,
                        sensitivity: p.sensitivity + s,
                    });
                }
            }
        }
        partial = thinned(staircase(next), EXACT_LIMIT);
    }
    partial
}

/// At most `limit` members, evenly spread over the (cost-sorted) staircase, both ends kept.
fn thinned(all: Vec<KnapsackSolution>, limit: usize) -> Vec<KnapsackSolution> {
    if all.len() <= limit || limit < 2 {
        return all;
    }
    let n = all.len();
    let keep: Vec<usize> = (0..limit)
        .map(|j| ((j * (n - 1)) as f64 / (limit - 1) as f64).round() as usize)
        .collect();
    let mut next = keep.iter().peekable();
    all.into_iter()
        .enumerate()
        .filter(|(i, _)| {
            let hit = next.peek().is_some_and(|&&k| k == *i);
            while next.peek().is_some_and(|&&k| k <= *i) {
                next.next();
            }
            hit
        })
        .map(|(_, s)| s)
        .collect()
}

/// The members no other member beats in both cost and sensitivity (first of equals kept).
fn staircase(mut all: Vec<KnapsackSolution>) -> Vec<KnapsackSolution> {
    all.sort_by(|a, b| {
        a.cost.partial_cmp(&b.cost).unwrap_or(Ordering::Equal).then(
            a.sensitivity
                .partial_cmp(&b.sensitivity)
                .unwrap_or(Ordering::Equal),
        )
    });
    let mut kept: Vec<KnapsackSolution> = Vec::new();
    for s in all {
        if kept
            .last()
            .is_none_or(|best| s.sensitivity < best.sensitivity)
        {
            kept.push(s);
        }
    }
    kept
}

/// `m` indices spread evenly over `0..n` (all of them if `m >= n`), in an order whose every
/// prefix also spreads: both ends first, then repeated halving (so a search cut early has seen
/// the whole range).
pub fn spread_order(n: usize, m: usize) -> Vec<usize> {
    if n == 0 || m == 0 {
        return Vec::new();
    }
    let m = m.min(n);
    let picks: Vec<usize> = if m == 1 {
        vec![n - 1]
    } else {
        (0..m)
            .map(|j| ((j * (n - 1)) as f64 / (m - 1) as f64).round() as usize)
            .collect()
    };
    let mut order = Vec::with_capacity(m);
    let mut taken = vec![false; m];
    let mut take = |j: usize, order: &mut Vec<usize>| {
        if !taken[j] {
            taken[j] = true;
            order.push(picks[j]);
        }
    };
    take(m - 1, &mut order);
    take(0, &mut order);
    let mut step = m.next_power_of_two();
    while step > 1 {
        let half = step / 2;
        let mut j = half;
        while j < m {
            take(j, &mut order);
            j += step;
        }
        step = half;
    }
    for j in 0..m {
        take(j, &mut order);
    }
    order
}
