//! Weight panels and activation rows in the layouts the output-lane SIMD kernels read.
//!
//! Why this layout: with one output channel per 32-bit SIMD lane, a kernel broadcasts one
//! 32-bit group of activation codes of a frame and multiplies it by a panel holding the matching
//! codes of 8 output channels. Every lane then accumulates a finished dot product; no horizontal
//! sums are needed, which matters most for short rows (in = 23 gives only a handful of steps).
//!
//! Two groupings, both 4 bytes per lane and step, so one micro-kernel shape serves both:
//! - *quads*: 4 consecutive codes as i8 (weights ≤ 8 bits), read by `vpdpbusd` (u8 · i8);
//! - *pairs*: 2 consecutive codes as i16 (any width), read by `vpmaddwd` / `vpdpwssd`.
//!
//! A panel of 8 outputs is `units × 8` little-endian u32 words: word `u·8 + lane` holds the
//! group `u` of output `lane`. Rows past the matrix and codes past `cols` are zero. Panels are
//! built from the packed bytes (the stored form) with one table lookup per packed byte, once per
//! matrix (the kernel keeps them with it, see `PackedMatrix::layout`).

use crate::{BitWidth, PackedMatrix};

/// Output channels per panel for 256-bit registers (8 lanes of 32 bits); the AVX-512 kernel
/// uses panels of 16.
pub(super) const LANES: usize = 8;

/// Which grouping of codes a panel holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Grouping {
    /// 4 codes as i8 per word.
    Quads,
    /// 2 codes as i16 per word.
    Pairs,
}

impl Grouping {
    pub(super) fn per_word(self) -> usize {
        match self {
            Grouping::Quads => 4,
            Grouping::Pairs => 2,
        }
    }
    /// Words (groups) needed to cover `cols` codes.
    pub(super) fn units(self, cols: usize) -> usize {
        cols.div_ceil(self.per_word())
    }
}

/// Which of a matrix's cached layouts (`PackedMatrix::layout`) holds panels of this grouping on
/// `lanes` (8 or 16) lanes.
pub(super) fn layout_kind(grouping: Grouping, lanes: usize) -> usize {
    debug_assert!(lanes == LANES || lanes == 2 * LANES);
    let kind = 2 * (grouping == Grouping::Pairs) as usize + (lanes == 2 * LANES) as usize;
    debug_assert!(kind < crate::pack::LAYOUT_KINDS);
    kind
}

/// Sign-extends the low `bits` bits of `v` to i8.
const fn sext(v: u8, bits: u32) -> i8 {
    ((v << (8 - bits)) as i8) >> (8 - bits)
}

/// 2-bit byte → its 4 codes as i8 bytes of one word (a whole quad).
static QUAD_OF_2BIT: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut b = 0;
    while b < 256 {
        let mut j = 0;
        while j < 4 {
            t[b] |= (sext(((b >> (2 * j)) & 3) as u8, 2) as u8 as u32) << (8 * j);
            j += 1;
        }
        b += 1;
    }
    t
};

/// 4-bit byte → its 2 codes as i8 bytes (half a quad).
static HALF_QUAD_OF_4BIT: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut b = 0;
    while b < 256 {
        let lo = sext((b & 15) as u8, 4) as u8 as u32;
        let hi = sext((b >> 4) as u8, 4) as u8 as u32;
        t[b] = lo | hi << 8;
        b += 1;
    }
    t
};

/// 4-bit byte → its 2 codes as i16 halves of one word (a whole pair).
static PAIR_OF_4BIT: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut b = 0;
    while b < 256 {
        let lo = sext((b & 15) as u8, 4) as i16 as u16 as u32;
        let hi = sext((b >> 4) as u8, 4) as i16 as u16 as u32;
        t[b] = lo | hi << 16;
        b += 1;
    }
    t
};

/// 2-bit byte → its 4 codes as two pair words.
static PAIRS_OF_2BIT: [[u32; 2]; 256] = {
    let mut t = [[0u32; 2]; 256];
    let mut b = 0;
    while b < 256 {
        let mut j = 0;
        while j < 4 {
            let code = sext(((b >> (2 * j)) & 3) as u8, 2) as i16 as u16 as u32;
            t[b][j / 2] |= code << (16 * (j % 2));
            j += 1;
        }
        b += 1;
    }
    t
};

/// Where the last, partial group `u` of a row starts: (first byte, group index relative to a
/// copy of the row from that byte on).
fn tail_start(bits: BitWidth, grouping: Grouping, u: usize) -> (usize, usize) {
    match (grouping, bits) {
        (Grouping::Quads, BitWidth::B8) | (Grouping::Pairs, BitWidth::B16) => (4 * u, 0),
        (Grouping::Quads, BitWidth::B4) | (Grouping::Pairs, BitWidth::B8) => (2 * u, 0),
        (Grouping::Quads, BitWidth::B2) | (Grouping::Pairs, BitWidth::B4) => (u, 0),
        (Grouping::Pairs, BitWidth::B2) => (u / 2, u % 2),
        (Grouping::Quads, BitWidth::B16) => unreachable!("16-bit weights have no i8 quads"),
    }
}

/// Word of a full group `u` (all its codes `< cols`), one lookup per packed byte. Always inlined,
/// so that `build_panels`, which calls it with constant widths, gets one tight loop per case.
#[inline(always)]
fn full_word(row: &[u8], bits: BitWidth, grouping: Grouping, u: usize) -> u32 {
    let word = |i: usize| u32::from_le_bytes([row[i], row[i + 1], row[i + 2], row[i + 3]]);
    match (grouping, bits) {
        (Grouping::Quads, BitWidth::B8) | (Grouping::Pairs, BitWidth::B16) => word(4 * u),
        (Grouping::Quads, BitWidth::B4) => {
            HALF_QUAD_OF_4BIT[row[2 * u] as usize]
                | HALF_QUAD_OF_4BIT[row[2 * u + 1] as usize] << 16
        }
        (Grouping::Quads, BitWidth::B2) => QUAD_OF_2BIT[row[u] as usize],
        (Grouping::Pairs, BitWidth::B8) => {
            (row[2 * u] as i8 as i16 as u16 as u32)
                | (row[2 * u + 1] as i8 as i16 as u16 as u32) << 16
        }
        (Grouping::Pairs, BitWidth::B4) => PAIR_OF_4BIT[row[u] as usize],
        (Grouping::Pairs, BitWidth::B2) => PAIRS_OF_2BIT[row[u / 2] as usize][u % 2],
        (Grouping::Quads, BitWidth::B16) => unreachable!("16-bit weights have no i8 quads"),
    }
}

/// Panels for weight rows `r0..r0 + nr`: `nr.div_ceil(lanes)` panels of `units × lanes` words
/// each, panel after panel. Quads need weights of at most 8 bits.
pub(super) fn build_panels(
    w: &PackedMatrix,
    r0: usize,
    nr: usize,
    grouping: Grouping,
    lanes: usize,
) -> Vec<u32> {
    let bits = w.bits();
    debug_assert!(grouping == Grouping::Pairs || bits != BitWidth::B16);
    let cols = w.cols();
    let units = grouping.units(cols);
    let full = cols / grouping.per_word();
    let rb = w.row_bytes();
    let bytes = w.packed_bytes();
    let mut panels = vec![0u32; nr.div_ceil(lanes) * units * lanes];
    let rows = &bytes[r0 * rb..(r0 + nr) * rb];
    // The last, partial group (if any): the row's remaining bytes, zero-extended, go through the
    // same lookups as a full group, then the word is masked to the codes `< cols` (a row loaded
    // from a file may carry arbitrary padding bits past its last code).
    let (tail_first, tail_local) = tail_start(bits, grouping, full);
    let per = grouping.per_word();
    let kept_bits = (cols - full * per) * (32 / per);
    let tail_mask = ((1u64 << kept_bits) - 1) as u32;
    let geometry = Geometry {
        row_bytes: rb,
        units,
        lanes,
        full,
    };
    macro_rules! fill_with {
        ($g:expr, $b:expr) => {
            fill(
                &mut panels,
                rows,
                geometry,
                |row, u| full_word(row, $b, $g, u),
                |row| {
                    let mut padded = [0u8; 8];
                    let rest = &row[tail_first..];
                    padded[..rest.len()].copy_from_slice(rest);
                    full_word(&padded, $b, $g, tail_local) & tail_mask
                },
            )
        };
    }
    match (grouping, bits) {
        (Grouping::Quads, BitWidth::B8) => fill_with!(Grouping::Quads, BitWidth::B8),
        (Grouping::Quads, BitWidth::B4) => fill_with!(Grouping::Quads, BitWidth::B4),
        (Grouping::Quads, BitWidth::B2) => fill_with!(Grouping::Quads, BitWidth::B2),
        (Grouping::Pairs, BitWidth::B16) => fill_with!(Grouping::Pairs, BitWidth::B16),
        (Grouping::Pairs, BitWidth::B8) => fill_with!(Grouping::Pairs, BitWidth::B8),
        (Grouping::Pairs, BitWidth::B4) => fill_with!(Grouping::Pairs, BitWidth::B4),
        (Grouping::Pairs, BitWidth::B2) => fill_with!(Grouping::Pairs, BitWidth::B2),
        (Grouping::Quads, BitWidth::B16) => unreachable!("16-bit weights have no i8 quads"),
    }
    panels
}

/// Sizes `fill` works with.
#[derive(Clone, Copy)]
struct Geometry {
    /// Bytes per packed row.
    row_bytes: usize,
    /// Groups per row (the last may be partial).
    units: usize,
    /// Outputs per panel.
    lanes: usize,
    /// Full groups per row.
    full: usize,
}

/// Scatters the words of each packed row into its lane of its panel.
#[inline(always)]
fn fill(
    panels: &mut [u32],
    rows: &[u8],
    g: Geometry,
    word: impl Fn(&[u8], usize) -> u32,
    tail: impl Fn(&[u8]) -> u32,
) {
    let Geometry {
        row_bytes: rb,
        units,
        lanes,
        full,
    } = g;
    let panel_rows = rows.chunks(rb * lanes);
    for (panel, rows) in panels.chunks_exact_mut(units * lanes).zip(panel_rows) {
        for (lane, row) in rows.chunks_exact(rb).enumerate() {
            let mut words = panel[lane..].iter_mut().step_by(lanes);
            for (u, slot) in (&mut words).take(full).enumerate() {
                *slot = word(row, u);
            }
            if let Some(slot) = words.next().filter(|_| full < units) {
                *slot = tail(row);
            }
        }
    }
}

/// Activation codes (at most 8 bits) offset by +128 to u8, for the u8 · i8 product: frame `t`
/// occupies bytes `t·(4·units) ..`, padded with 128 (the code 0).
pub(super) fn offset_u8_rows(padded: &[i16], stride: usize, cols: usize) -> Vec<u8> {
    let row_len = 4 * Grouping::Quads.units(cols);
    let frames = padded.len() / stride;
    let mut out = vec![128u8; frames * row_len];
    for (src, dst) in padded
        .chunks_exact(stride)
        .zip(out.chunks_exact_mut(row_len))
    {
        for (d, &q) in dst[..cols].iter_mut().zip(src) {
            *d = (q + 128) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::QuantParams;

    fn matrix(bits: BitWidth, rows: usize, cols: usize) -> (Vec<i32>, PackedMatrix) {
        let span = (bits.qmax() - bits.qmin() + 1) as usize;
        let codes: Vec<i32> = (0..rows * cols)
            .map(|i| bits.qmin() + ((i * 7919 + 13) % span) as i32)
            .collect();
        let params = QuantParams {
            bits,
            alpha: 1.0,
            scale: bits.qmax() as f32,
        };
        let w = PackedMatrix::from_codes(&codes, rows, cols, params).unwrap();
        // Set every padding bit past the last code of each row, as a file might: the panels
        // must still hold zeros there.
        let mut bytes = w.packed_bytes().to_vec();
        let used_bits = cols * bits.bits() as usize;
        for row in bytes.chunks_exact_mut(w.row_bytes()) {
            if !used_bits.is_multiple_of(8) {
                *row.last_mut().unwrap() |= 0xFFu8 << (used_bits % 8);
            }
        }
        let w = PackedMatrix::from_packed_bytes(bytes, rows, cols, params).unwrap();
        assert_eq!(w.codes(), codes);
        (codes, w)
    }

    /// Every word of every panel holds exactly the codes the layout promises, zeros elsewhere.
    #[test]
    fn panels_hold_the_codes() {
        for bits in BitWidth::ALL {
            for grouping in [Grouping::Quads, Grouping::Pairs] {
                if grouping == Grouping::Quads && bits == BitWidth::B16 {
                    continue;
                }
                for (rows, cols) in [(1, 1), (9, 7), (17, 23), (8, 16), (3, 5), (2, 6)] {
                    let (codes, w) = matrix(bits, rows, cols);
                    let (r0, nr) = (rows / 3, rows - rows / 3);
                    for lanes in [LANES, 2 * LANES] {
                        let panels = build_panels(&w, r0, nr, grouping, lanes);
                        let per = grouping.per_word();
                        let units = grouping.units(cols);
                        for i in 0..nr.div_ceil(lanes) * lanes {
                            for u in 0..units {
                                let word =
                                    panels[(i / lanes) * units * lanes + u * lanes + i % lanes];
                                for j in 0..per {
                                    let c = u * per + j;
                                    let got = if per == 4 {
                                        (word >> (8 * j)) as u8 as i8 as i32
                                    } else {
                                        (word >> (16 * j)) as u16 as i16 as i32
                                    };
                                    let want = if i < nr && c < cols {
                                        codes[(r0 + i) * cols + c]
                                    } else {
                                        0
                                    };
                                    assert_eq!(
                                        got, want,
                                        "{bits} {grouping:?} {rows}x{cols} row {i} col {c}"
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
