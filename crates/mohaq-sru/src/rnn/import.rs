//! A PyTorch state_dict (safetensors) mapped onto an [`RnnConfig`]: every tensor the config
//! needs is looked up by its PyTorch name ([`super::params::expected_tensors`]) and checked for
//! shape and finiteness, and every tensor the config does not use is reported. All problems are
//! collected and reported together, each naming its tensor; a GRU's 3-gate tensors given to an
//! LSTM config (or the reverse) are named as such.

use std::collections::BTreeMap;
use std::path::Path;

use safetensors::Dtype;

use super::config::{RnnConfig, RnnKind};
use super::error::RnnError;
use super::params::{expected_tensors, RnnParams};

/// A tensor of the file: shape and values converted to f32.
pub(crate) struct Loaded {
    pub shape: Vec<usize>,
    /// `Err(dtype)` for a dtype that is not read.
    pub values: Result<Vec<f32>, String>,
}

/// Reads `path` and maps it onto `config`; any problem is an [`RnnError::Import`] listing all.
pub fn import_state_dict(path: &Path, config: &RnnConfig) -> Result<RnnParams, RnnError> {
    let bytes = std::fs::read(path).map_err(|source| RnnError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let (st, _) =
        mohaq_quant::safetensors_file::parse(&bytes).map_err(|message| RnnError::Weights {
            path: path.to_path_buf(),
            message,
        })?;
    let mut file: BTreeMap<String, Loaded> = BTreeMap::new();
    for name in st.names() {
        let view = st.tensor(name).map_err(|e| RnnError::Weights {
            path: path.to_path_buf(),
            message: format!("tensor `{name}`: {e}"),
        })?;
        file.insert(
            name.to_string(),
            Loaded {
                shape: view.shape().to_vec(),
                values: to_f32(view.dtype(), view.data()),
            },
        );
    }
    map_tensors(path, config, file)
}

/// [`map_tensors`] over f32 tensors already read (a bundle or a training checkpoint).
pub(crate) fn map_tensor_map(
    path: &Path,
    config: &RnnConfig,
    tensors: crate::model::params::TensorMap,
) -> Result<RnnParams, RnnError> {
    let file = tensors
        .into_iter()
        .map(|(n, (shape, v))| {
            (
                n,
                Loaded {
                    shape,
                    values: Ok(v),
                },
            )
        })
        .collect();
    map_tensors(path, config, file)
}

pub(crate) fn map_tensors(
    path: &Path,
    config: &RnnConfig,
    mut file: BTreeMap<String, Loaded>,
) -> Result<RnnParams, RnnError> {
    let mut problems = Vec::new();
    let mut values = Vec::new();
    let expected = expected_tensors(config);
    for (name, shape) in &expected {
        let Some(t) = file.remove(name) else {
            problems.push(format!("missing tensor `{name}` {shape:?}"));
            continue;
        };
        if t.shape != *shape {
            problems.push(shape_problem(config, name, shape, &t.shape));
            continue;
        }
        match t.values {
            Err(dtype) => problems.push(format!(
                "tensor `{name}` has dtype {dtype}; F32, F64, F16 and BF16 are read"
            )),
            Ok(v) => {
                let bad: Vec<usize> = (0..v.len()).filter(|&i| !v[i].is_finite()).collect();
                if let Some(&first) = bad.first() {
                    problems.push(format!(
                        "tensor `{name}` holds {} non-finite value(s) (NaN or inf), the first at \
                         index {first} ({})",
                        bad.len(),
                        v[first]
                    ));
                } else {
                    values.push(v);
                }
            }
        }
    }
    for (name, t) in &file {
        problems.push(format!("unexpected tensor `{name}` {:?}", t.shape));
    }
    if let Some(hint) = prefix_hint(config, &expected, &file) {
        problems.push(hint);
    }
    if !problems.is_empty() {
        return Err(RnnError::Import {
            path: path.to_path_buf(),
            arch: config.describe(),
            problems,
        });
    }
    Ok(RnnParams::from_ordered(config, values))
}

/// A wrong shape, said as a gate-count mismatch where the rows are another cell's gate count.
fn shape_problem(config: &RnnConfig, name: &str, expected: &[usize], found: &[usize]) -> String {
    let recurrent = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
        .iter()
        .any(|w| {
            name.rsplit('.')
                .next()
                .is_some_and(|last| last.starts_with(w))
        });
    let other = match config.kind {
        RnnKind::Lstm => RnnKind::Gru,
        RnnKind::Gru => RnnKind::Lstm,
    };
    let h = config.hidden;
    if recurrent
        && found.len() == expected.len()
        && found.first() == Some(&(other.gates() * h))
        && found[1..] == expected[1..]
    {
        return format!(
            "tensor `{name}` has shape {found:?}: {} gate blocks of {h} rows, a {}'s; the \
             architecture is {} ({} gates, shape {expected:?}) — is this a {} state_dict?",
            other.gates(),
            other.name().to_uppercase(),
            config.kind.name().to_uppercase(),
            config.kind.gates(),
            other.name().to_uppercase(),
        );
    }
    format!("tensor `{name}` has shape {found:?}, the architecture needs {expected:?}")
}

/// When no expected recurrent tensor was found but the file has one under another prefix,
/// says which `[model.names]` setting would match.
fn prefix_hint(
    config: &RnnConfig,
    expected: &[(String, Vec<usize>)],
    left: &BTreeMap<String, Loaded>,
) -> Option<String> {
    let first = &expected.first()?.0;
    if !left.contains_key(first) {
        let tail = first.strip_prefix(&config.names.rnn).unwrap_or(first);
        let tail = tail.trim_start_matches('.');
        let other = left
            .keys()
            .find(|k| k.ends_with(tail) && k.len() > tail.len())?;
        let prefix = other[..other.len() - tail.len()].trim_end_matches('.');
        return Some(format!(
            "hint: the recurrent tensors seem to be under `{prefix}`; set `rnn = \"{prefix}\"` \
             in [model.names] (or --rnn-prefix)"
        ));
    }
    None
}

/// Little-endian values of a supported dtype as f32; `Err(dtype)` otherwise.
fn to_f32(dtype: Dtype, data: &[u8]) -> Result<Vec<f32>, String> {
    Ok(match dtype {
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        Dtype::F64 => data
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")) as f32)
            .collect(),
        Dtype::BF16 => data
            .chunks_exact(2)
            .map(|c| f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16))
            .collect(),
        Dtype::F16 => data
            .chunks_exact(2)
            .map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])))
            .collect(),
        other => return Err(format!("{other:?}")),
    })
}

/// IEEE half → single (exact: every half is a single).
fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let frac = (h & 0x3ff) as u32;
    let bits = match (exp, frac) {
        (0, 0) => sign,
        (0, f) => {
            // Subnormal: value f · 2^−24.
            return if sign != 0 { -(f as f32) } else { f as f32 } * 2f32.powi(-24);
        }
        (31, 0) => sign | 0x7f80_0000,
        (31, f) => sign | 0x7f80_0000 | (f << 13),
        (e, f) => sign | ((e + 127 - 15) << 23) | (f << 13),
    };
    f32::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_convert_exactly() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
    }
}
