//! The export format of a quantized model: safetensors holding each packed matrix as an integer
//! tensor, with its width, column count, α and scale in the header metadata.
//!
//! Per matrix `name`: the tensor `name` is I16 `[rows, cols]` (16-bit), I8 `[rows, cols]` (8-bit)
//! or U8 `[rows, packed bytes per row]` (4-bit: two codes per byte, 2-bit: four, low bits first,
//! two's complement); metadata keys `name.bits`, `name.cols`, `name.alpha`, `name.scale` hold
//! decimal strings (f32 printed by Rust's shortest round-trip formatting, so reading gives back
//! the identical float).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use safetensors::tensor::TensorView;
use safetensors::Dtype;

use crate::{BitWidth, PackedMatrix, QuantError, QuantParams};

fn format_err(path: &Path, key: &str, problem: impl ToString) -> QuantError {
    QuantError::Format {
        path: path.to_path_buf(),
        key: key.to_string(),
        problem: problem.to_string(),
    }
}

fn dtype_and_shape(m: &PackedMatrix) -> (Dtype, Vec<usize>) {
    match m.bits() {
        BitWidth::B16 => (Dtype::I16, vec![m.rows(), m.cols()]),
        BitWidth::B8 => (Dtype::I8, vec![m.rows(), m.cols()]),
        _ => (Dtype::U8, vec![m.rows(), m.row_bytes()]),
    }
}

/// Serialises named packed matrices to safetensors bytes (`path` only names errors).
pub fn packed_to_safetensors_bytes<'a>(
    matrices: impl IntoIterator<Item = (&'a str, &'a PackedMatrix)>,
    path: &Path,
) -> Result<Vec<u8>, QuantError> {
    let mut views = Vec::new();
    let mut meta = HashMap::new();
    for (name, m) in matrices {
        if name.contains('.') {
            return Err(format_err(path, name, "matrix names may not contain '.'"));
        }
        let (dtype, shape) = dtype_and_shape(m);
        let view = TensorView::new(dtype, shape, m.packed_bytes())
            .map_err(|e| format_err(path, name, e))?;
        views.push((name.to_string(), view));
        let p = m.params();
        meta.insert(format!("{name}.bits"), p.bits.bits().to_string());
        meta.insert(format!("{name}.cols"), m.cols().to_string());
        meta.insert(format!("{name}.alpha"), p.alpha.to_string());
        meta.insert(format!("{name}.scale"), p.scale.to_string());
    }
    safetensors::serialize(views, Some(meta)).map_err(|e| format_err(path, "", e))
}

/// Writes named packed matrices to a safetensors file.
pub fn save_packed<'a>(
    path: &Path,
    matrices: impl IntoIterator<Item = (&'a str, &'a PackedMatrix)>,
) -> Result<(), QuantError> {
    let bytes = packed_to_safetensors_bytes(matrices, path)?;
    mohaq_fsio::write_atomic(path, &bytes).map_err(|source| QuantError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Parses safetensors bytes written by [`packed_to_safetensors_bytes`] (`path` names errors).
pub fn packed_from_safetensors_bytes(
    bytes: &[u8],
    path: &Path,
) -> Result<BTreeMap<String, PackedMatrix>, QuantError> {
    let (st, meta) = crate::safetensors_file::parse(bytes).map_err(|e| format_err(path, "", e))?;
    let get = |name: &str, field: &str| -> Result<&String, QuantError> {
        meta.get(&format!("{name}.{field}"))
            .ok_or_else(|| format_err(path, name, format!("metadata `{name}.{field}` missing")))
    };
    let mut out = BTreeMap::new();
    for name in st.names() {
        let view = st.tensor(name).map_err(|e| format_err(path, name, e))?;
        let bits_s = get(name, "bits")?;
        let bits = bits_s
            .parse::<u32>()
            .map_err(|_| format_err(path, name, format!("bits `{bits_s}` is not a number")))
            .and_then(|b| BitWidth::new(b).map_err(|e| format_err(path, name, e)))?;
        let parse_usize = |field: &str| -> Result<usize, QuantError> {
            let s = get(name, field)?;
            s.parse()
                .map_err(|_| format_err(path, name, format!("{field} `{s}` is not a count")))
        };
        let parse_f32 = |field: &str| -> Result<f32, QuantError> {
            let s = get(name, field)?;
            s.parse()
                .map_err(|_| format_err(path, name, format!("{field} `{s}` is not a number")))
        };
        let cols = parse_usize("cols")?;
        let params = QuantParams {
            bits,
            alpha: parse_f32("alpha")?,
            scale: parse_f32("scale")?,
        };
        if !(params.scale > 0.0 && params.scale.is_finite() && params.alpha.is_finite()) {
            return Err(format_err(path, name, "scale must be positive and finite"));
        }
        let rows = *view
            .shape()
            .first()
            .ok_or_else(|| format_err(path, name, "tensor has no dimensions"))?;
        let m = PackedMatrix::from_packed_bytes(view.data().to_vec(), rows, cols, params)
            .map_err(|e| format_err(path, name, e))?;
        let (dtype, shape) = dtype_and_shape(&m);
        if view.dtype() != dtype || view.shape() != shape.as_slice() {
            return Err(format_err(
                path,
                name,
                format!(
                    "expected {dtype:?} {shape:?} for {bits}-bit, found {:?} {:?}",
                    view.dtype(),
                    view.shape()
                ),
            ));
        }
        out.insert(name.to_string(), m);
    }
    Ok(out)
}

/// Reads every packed matrix of a safetensors file written by [`save_packed`].
pub fn load_packed(path: &Path) -> Result<BTreeMap<String, PackedMatrix>, QuantError> {
    let bytes = std::fs::read(path).map_err(|source| QuantError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    packed_from_safetensors_bytes(&bytes, path)
}
