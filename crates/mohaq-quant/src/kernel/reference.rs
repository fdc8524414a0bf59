//! The naive integer reference every kernel must match bit for bit.

/// `Y[t][o] = Σ_k X[t][k] · W[o][k]` in i64, straight loops, no tricks. `x` is `frames × cols`,
/// `w` is `outputs × cols`, both row-major; panics if the lengths do not match (test helper).
pub fn reference_qmatmul_int(
    x: &[i32],
    w: &[i32],
    frames: usize,
    cols: usize,
    outputs: usize,
) -> Vec<i64> {
    assert_eq!(x.len(), frames * cols);
    assert_eq!(w.len(), outputs * cols);
    let mut y = vec![0i64; frames * outputs];
    for t in 0..frames {
        for o in 0..outputs {
            let mut acc = 0i64;
            for k in 0..cols {
                acc += x[t * cols + k] as i64 * w[o * cols + k] as i64;
            }
            y[t * outputs + o] = acc;
        }
    }
    y
}
