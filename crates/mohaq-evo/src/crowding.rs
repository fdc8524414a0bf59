//! Crowding distance within one front, with pymoo 0.4's conventions.

/// Stand-in for an infinite distance, as pymoo stores it, so checkpoints stay plain JSON.
pub const BOUNDARY_CROWDING: f64 = 1e14;

/// Crowding distance of each point of one front.
///
/// Conventions (pymoo 0.4): fronts of one or two points are all boundary; duplicates of an
/// earlier point get 0 so that copies do not crowd out diversity; each objective's gap is
/// normalised by that objective's range over the front (a zero range contributes nothing); the
/// sum is divided by the number of objectives; infinite distances become [`BOUNDARY_CROWDING`].
pub fn crowding_distances(front: &[&[f64]]) -> Vec<f64> {
    let n = front.len();
    if n <= 2 {
        return vec![BOUNDARY_CROWDING; n];
    }
    let n_obj = front[0].len();
    let unique: Vec<usize> = (0..n)
        .filter(|&i| !front[..i].iter().any(|p| *p == front[i]))
        .collect();
    let m = unique.len();
    let mut distance = vec![0.0f64; m];
    let mut order: Vec<usize> = (0..m).collect();
    // `objective` indexes the inner vectors, not `front`; the lint misreads it.
    #[allow(clippy::needless_range_loop)]
    for objective in 0..n_obj {
        let column: Vec<f64> = unique.iter().map(|&i| front[i][objective]).collect();
        // A stable sort keeps ties in index order, like numpy's mergesort.
        order.sort_by(|&a, &b| column[a].total_cmp(&column[b]));
        let range = column[order[m - 1]] - column[order[0]];
        if range <= 0.0 {
            continue;
        }
        for (pos, &u) in order.iter().enumerate() {
            let prev = if pos == 0 {
                f64::NEG_INFINITY
            } else {
                column[order[pos - 1]]
            };
            let next = if pos + 1 == m {
                f64::INFINITY
            } else {
                column[order[pos + 1]]
            };
            distance[u] += (column[u] - prev) / range + (next - column[u]) / range;
        }
    }
    let mut crowding = vec![0.0; n];
    for (u, &i) in unique.iter().enumerate() {
        let d = distance[u] / n_obj as f64;
        crowding[i] = if d.is_infinite() {
            BOUNDARY_CROWDING
        } else {
            d
        };
    }
    crowding
}
