//! Bit-packed weight matrices: 2-bit codes four to a byte, 4-bit two to a byte, 8-bit one byte,
//! 16-bit two bytes little-endian. Each row starts on a byte boundary, so a row can be unpacked on
//! its own (the kernels unpack one block of rows at a time).

use crate::error::check_finite;
use crate::params::check_codes;
use crate::{BitWidth, Calibration, QuantError, QuantParams};

/// A quantized `rows × cols` matrix (row-major, one row per output of `Y = X·Wᵀ`) in packed form,
/// with the parameters that map its codes back to values.
#[derive(Debug, Clone, PartialEq)]
pub struct PackedMatrix {
    params: QuantParams,
    rows: usize,
    cols: usize,
    data: Vec<u8>,
    layouts: LayoutCache,
}

/// Kinds of kernel layout a matrix can be asked for (see `kernel::panel`): quads or pairs, on 8
/// or 16 lanes.
pub(crate) const LAYOUT_KINDS: usize = 4;

/// The kernel layouts (weight panels) of a matrix, built on first use and kept with it. Why: a
/// search quantizes each (layer, width) once and multiplies it by every utterance of every
/// candidate, so building panels per product was pure repetition (5–6 % of a candidate). The
/// layouts are derived from the packed bytes, so they take no part in equality.
#[derive(Clone, Default)]
struct LayoutCache([std::sync::OnceLock<Vec<u32>>; LAYOUT_KINDS]);

impl PartialEq for LayoutCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for LayoutCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let built = self.0.iter().filter(|l| l.get().is_some()).count();
        write!(f, "LayoutCache({built} built)")
    }
}

/// Bytes one packed row of `cols` codes takes.
pub fn packed_row_bytes(bits: BitWidth, cols: usize) -> usize {
    match bits {
        BitWidth::B16 => cols * 2,
        b => cols.div_ceil(b.per_byte()),
    }
}

/// Sign-extends the low `bits` bits of `v`.
#[inline]
fn sign_extend(v: u8, bits: u32) -> i16 {
    (((v << (8 - bits)) as i8) >> (8 - bits)) as i16
}

/// For 2- and 4-bit codes: the codes held by each possible byte value, so unpacking is one table
/// lookup per byte instead of shifts per code.
struct UnpackTable {
    two: [[i16; 4]; 256],
    four: [[i16; 2]; 256],
}

static UNPACK: std::sync::LazyLock<UnpackTable> = std::sync::LazyLock::new(|| {
    let mut two = [[0i16; 4]; 256];
    let mut four = [[0i16; 2]; 256];
    for b in 0..256usize {
        let byte = b as u8;
        for (j, slot) in two[b].iter_mut().enumerate() {
            *slot = sign_extend((byte >> (2 * j)) & 0b11, 2);
        }
        for (j, slot) in four[b].iter_mut().enumerate() {
            *slot = sign_extend((byte >> (4 * j)) & 0b1111, 4);
        }
    }
    UnpackTable { two, four }
});

impl PackedMatrix {
    /// Quantizes a row-major `rows × cols` f32 matrix with the given parameters and packs it.
    pub fn quantize(
        values: &[f32],
        rows: usize,
        cols: usize,
        params: QuantParams,
    ) -> Result<Self, QuantError> {
        check_shape(values.len(), rows, cols, "PackedMatrix::quantize")?;
        check_finite(values, "weight matrix")?;
        let codes: Vec<i32> = values.iter().map(|&v| params.quantize_one(v)).collect();
        Self::from_codes(&codes, rows, cols, params)
    }

    /// Calibrates (MMSE for 2/4/8 bits, fixed point for 16), quantizes and packs.
    pub fn quantize_mmse(
        values: &[f32],
        rows: usize,
        cols: usize,
        bits: BitWidth,
    ) -> Result<Self, QuantError> {
        check_shape(values.len(), rows, cols, "PackedMatrix::quantize_mmse")?;
        let params = QuantParams::calibrate(values, bits, Calibration::Mmse)?;
        Self::quantize(values, rows, cols, params)
    }

    /// Packs integer codes (each must fit `params.bits`).
    pub fn from_codes(
        codes: &[i32],
        rows: usize,
        cols: usize,
        params: QuantParams,
    ) -> Result<Self, QuantError> {
        check_shape(codes.len(), rows, cols, "PackedMatrix::from_codes")?;
        check_codes(codes, params.bits)?;
        let bits = params.bits;
        let row_bytes = packed_row_bytes(bits, cols);
        let mut data = vec![0u8; rows * row_bytes];
        for (code_row, out) in codes
            .chunks_exact(cols)
            .zip(data.chunks_exact_mut(row_bytes))
        {
            match bits {
                BitWidth::B16 => {
                    for (c, o) in code_row.iter().zip(out.chunks_exact_mut(2)) {
                        o.copy_from_slice(&(*c as i16).to_le_bytes());
                    }
                }
                BitWidth::B8 => {
                    for (c, o) in code_row.iter().zip(out.iter_mut()) {
                        *o = *c as i8 as u8;
                    }
                }
                b => {
                    let per = b.per_byte();
                    let nb = b.bits();
                    let mask = (1u8 << nb) - 1;
                    for (j, c) in code_row.iter().enumerate() {
                        out[j / per] |= ((*c as u8) & mask) << (nb as usize * (j % per));
                    }
                }
            }
        }
        Ok(PackedMatrix {
            params,
            rows,
            cols,
            data,
            layouts: LayoutCache::default(),
        })
    }

    /// Wraps already-packed bytes (as read from a file); checks that the length fits the shape.
    pub fn from_packed_bytes(
        data: Vec<u8>,
        rows: usize,
        cols: usize,
        params: QuantParams,
    ) -> Result<Self, QuantError> {
        let expected = rows * packed_row_bytes(params.bits, cols);
        if data.len() != expected {
            return Err(QuantError::shape(
                "packed bytes",
                format!("{expected} bytes for {rows}x{cols} at {} bits", params.bits),
                format!("{} bytes", data.len()),
            ));
        }
        if rows == 0 || cols == 0 {
            return Err(QuantError::Empty {
                what: "packed matrix",
            });
        }
        Ok(PackedMatrix {
            params,
            rows,
            cols,
            data,
            layouts: LayoutCache::default(),
        })
    }

    pub fn params(&self) -> &QuantParams {
        &self.params
    }
    pub fn bits(&self) -> BitWidth {
        self.params.bits
    }
    pub fn rows(&self) -> usize {
        self.rows
    }
    pub fn cols(&self) -> usize {
        self.cols
    }
    /// The packed bytes, row after row.
    pub fn packed_bytes(&self) -> &[u8] {
        &self.data
    }
    /// Weight memory in bytes (the packed codes; the scale adds 4 bytes per matrix).
    pub fn memory_bytes(&self) -> usize {
        self.data.len()
    }
    /// The kernel layout of kind `kind` (< [`LAYOUT_KINDS`]), built by `build` on the first
    /// request and kept for the matrix's lifetime (threads arriving while it is built wait for
    /// that one build).
    pub(crate) fn layout(&self, kind: usize, build: impl FnOnce() -> Vec<u32>) -> &[u32] {
        self.layouts.0[kind].get_or_init(build)
    }
    /// Bytes held by kernel layouts built so far (beside [`Self::memory_bytes`]).
    pub fn layout_bytes(&self) -> usize {
        self.layouts
            .0
            .iter()
            .filter_map(|l| l.get())
            .map(|l| 4 * l.len())
            .sum()
    }
    /// Bytes per packed row.
    pub fn row_bytes(&self) -> usize {
        packed_row_bytes(self.params.bits, self.cols)
    }

    /// Unpacks row `r` into `out[..cols]` as i16 codes (`out` may be longer: the rest is untouched).
    pub fn unpack_row_into(&self, r: usize, out: &mut [i16]) {
        let rb = self.row_bytes();
        let src = &self.data[r * rb..(r + 1) * rb];
        let out = &mut out[..self.cols];
        match self.params.bits {
            BitWidth::B16 => {
                for (o, b) in out.iter_mut().zip(src.chunks_exact(2)) {
                    *o = i16::from_le_bytes([b[0], b[1]]);
                }
            }
            BitWidth::B8 => {
                for (o, &b) in out.iter_mut().zip(src) {
                    *o = b as i8 as i16;
                }
            }
            BitWidth::B4 => {
                let table = &UNPACK.four;
                let mut chunks = out.chunks_exact_mut(2);
                for (o, &b) in (&mut chunks).zip(src) {
                    o.copy_from_slice(&table[b as usize]);
                }
                let rem = chunks.into_remainder();
                if let (Some(&b), false) = (src.last(), rem.is_empty()) {
                    rem.copy_from_slice(&table[b as usize][..rem.len()]);
                }
            }
            BitWidth::B2 => {
                let table = &UNPACK.two;
                let mut chunks = out.chunks_exact_mut(4);
                for (o, &b) in (&mut chunks).zip(src) {
                    o.copy_from_slice(&table[b as usize]);
                }
                let rem = chunks.into_remainder();
                if let (Some(&b), false) = (src.last(), rem.is_empty()) {
                    rem.copy_from_slice(&table[b as usize][..rem.len()]);
                }
            }
        }
    }

    /// All codes, row-major.
    pub fn codes(&self) -> Vec<i32> {
        let mut row = vec![0i16; self.cols];
        let mut all = Vec::with_capacity(self.rows * self.cols);
        for r in 0..self.rows {
            self.unpack_row_into(r, &mut row);
            all.extend(row.iter().map(|&q| q as i32));
        }
        all
    }

    /// All values (codes / scale), row-major: the fake-quantized weights.
    pub fn dequantize(&self) -> Vec<f32> {
        self.codes()
            .into_iter()
            .map(|q| self.params.dequantize_one(q))
            .collect()
    }
}

pub(crate) fn check_shape(
    len: usize,
    rows: usize,
    cols: usize,
    what: &'static str,
) -> Result<(), QuantError> {
    if rows == 0 || cols == 0 || len == 0 {
        return Err(QuantError::Empty { what });
    }
    if rows.checked_mul(cols) != Some(len) {
        return Err(QuantError::shape(
            what,
            format!("{rows}x{cols} = {} values", rows.saturating_mul(cols)),
            format!("{len} values"),
        ));
    }
    Ok(())
}
