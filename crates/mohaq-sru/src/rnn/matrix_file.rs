//! Feature matrices for `mohaq forward`: CSV (one frame per line, values separated by commas)
//! or NumPy `.npy` (2-D, little-endian f32 or f64, C order); log-probabilities out as CSV.
//! Values are taken as they are: no normalisation is applied, so a user can feed exactly what
//! their PyTorch model saw and compare.

use std::path::Path;

use super::error::RnnError;

/// A row-major matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub values: Vec<f32>,
}

fn err(path: &Path, message: impl Into<String>) -> RnnError {
    RnnError::Matrix {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Reads a `.npy` file (by extension) or CSV.
pub fn read_matrix(path: &Path) -> Result<Matrix, RnnError> {
    let bytes = std::fs::read(path).map_err(|source| RnnError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let m = if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
    {
        parse_npy(path, &bytes)?
    } else {
        let text = std::str::from_utf8(&bytes).map_err(|_| err(path, "CSV is not UTF-8 text"))?;
        parse_csv(path, text)?
    };
    if let Some(i) = m.values.iter().position(|v| !v.is_finite()) {
        return Err(err(
            path,
            format!(
                "row {}, column {}: value is not finite",
                i / m.cols + 1,
                i % m.cols + 1
            ),
        ));
    }
    Ok(m)
}

/// CSV: one frame per non-empty line, every line with the same number of values.
pub fn parse_csv(path: &Path, text: &str) -> Result<Matrix, RnnError> {
    let mut values = Vec::new();
    let mut cols = None;
    let mut rows = 0;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let before = values.len();
        for (c, part) in line.split(',').enumerate() {
            let v: f32 = part.trim().parse().map_err(|_| {
                err(
                    path,
                    format!(
                        "line {}, column {}: `{}` is not a number",
                        n + 1,
                        c + 1,
                        part.trim()
                    ),
                )
            })?;
            values.push(v);
        }
        let count = values.len() - before;
        match cols {
            None => cols = Some(count),
            Some(c) if c != count => {
                return Err(err(
                    path,
                    format!("line {} has {count} values, the first line has {c}", n + 1),
                ))
            }
            _ => {}
        }
        rows += 1;
    }
    let cols = cols.ok_or_else(|| err(path, "no frames (the file is empty)"))?;
    Ok(Matrix { rows, cols, values })
}

/// NumPy format 1.0–3.0: magic, header length, a Python-dict header, then the data.
pub fn parse_npy(path: &Path, bytes: &[u8]) -> Result<Matrix, RnnError> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(err(path, "not a .npy file (no \\x93NUMPY magic)"));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(err(path, format!(".npy version {v} is not read"))),
    };
    let header = bytes
        .get(start..start + header_len)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or_else(|| err(path, ".npy header is truncated"))?;
    let field = |key: &str| -> Option<&str> {
        let at = header.find(&format!("'{key}'"))? + key.len() + 2;
        Some(header[at..].trim_start_matches([':', ' ']))
    };
    let descr = field("descr").ok_or_else(|| err(path, ".npy header has no descr"))?;
    let width = if descr.starts_with("'<f4'") {
        4
    } else if descr.starts_with("'<f8'") {
        8
    } else {
        let d = descr.split(',').next().unwrap_or(descr);
        return Err(err(
            path,
            format!("dtype {d} is not read; save as float32 or float64"),
        ));
    };
    if field("fortran_order").is_some_and(|f| f.starts_with("True")) {
        return Err(err(
            path,
            "Fortran-ordered arrays are not read; save with C order",
        ));
    }
    let shape_text = field("shape").ok_or_else(|| err(path, ".npy header has no shape"))?;
    let inner = shape_text
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| err(path, "cannot read the .npy shape"))?;
    let shape: Vec<usize> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| err(path, format!("shape entry `{s}`")))
        })
        .collect::<Result<_, _>>()?;
    let (rows, cols) = match shape[..] {
        [r, c] => (r, c),
        [c] => (1, c),
        _ => {
            return Err(err(
                path,
                format!("shape {shape:?}: a 2-D frames × features array is needed"),
            ))
        }
    };
    let data = &bytes[start + header_len..];
    if data.len() != rows * cols * width || rows * cols == 0 {
        return Err(err(
            path,
            format!(
                "{} data bytes for shape {shape:?} of {width}-byte floats",
                data.len()
            ),
        ));
    }
    let values = if width == 4 {
        data.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    } else {
        data.chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")) as f32)
            .collect()
    };
    Ok(Matrix { rows, cols, values })
}

/// Writes `values` (`cols` per row) as CSV, atomically; floats in Rust's shortest form that
/// reads back to the same f32.
pub fn write_csv(path: &Path, values: &[f32], cols: usize) -> Result<(), RnnError> {
    let mut text = String::with_capacity(values.len() * 12);
    for row in values.chunks(cols) {
        let line: Vec<String> = row.iter().map(|v| v.to_string()).collect();
        text.push_str(&line.join(","));
        text.push('\n');
    }
    mohaq_fsio::write_atomic(path, text.as_bytes()).map_err(|source| RnnError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_npy_read_and_bad_lines_are_named() {
        let p = Path::new("f.csv");
        let m = parse_csv(p, "1,2\n\n3, 4.5\n").unwrap();
        assert_eq!((m.rows, m.cols, m.values), (2, 2, vec![1.0, 2.0, 3.0, 4.5]));
        let e = parse_csv(p, "1,2\n3\n").unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("f.csv"), "{e}");
        let e = parse_csv(p, "1,x\n").unwrap_err().to_string();
        assert!(e.contains("`x`"), "{e}");
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend((header.len() as u16).to_le_bytes());
        bytes.extend(header.as_bytes());
        for v in 0..6 {
            bytes.extend((v as f32).to_le_bytes());
        }
        let m = parse_npy(Path::new("f.npy"), &bytes).unwrap();
        assert_eq!((m.rows, m.cols, m.values[5]), (2, 3, 5.0));
        bytes.pop();
        assert!(parse_npy(Path::new("f.npy"), &bytes).is_err());
    }
}
