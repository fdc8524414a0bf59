//! Portable inner loop: one dot product per (frame, row), written so LLVM can vectorise it.

/// Fills `tile` (frames × nr, frame-major) with the dot products of every padded activation row
/// with every unpacked weight row.
pub(super) fn tile(
    x: &[i16],
    wrows: &[i16],
    stride: usize,
    nr: usize,
    wide: bool,
    tile: &mut [i64],
) {
    for (xr, out) in x.chunks_exact(stride).zip(tile.chunks_exact_mut(nr)) {
        for (wr, o) in wrows.chunks_exact(stride).zip(out.iter_mut()) {
            *o = if wide {
                dot_i64(xr, wr)
            } else {
                dot_i32(xr, wr) as i64
            };
        }
    }
}

/// i32 dot product; the caller guarantees no overflow (see `needs_wide_accumulator`).
fn dot_i32(a: &[i16], b: &[i16]) -> i32 {
    a.iter()
        .zip(b)
        .fold(0i32, |s, (&p, &q)| s.wrapping_add(p as i32 * q as i32))
}

fn dot_i64(a: &[i16], b: &[i16]) -> i64 {
    a.iter()
        .zip(b)
        .fold(0i64, |s, (&p, &q)| s + (p as i32 * q as i32) as i64)
}
