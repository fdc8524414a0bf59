//! Opening safetensors bytes with errors a user can act on.
//!
//! The safetensors crate checks a header against its data and answers, for the commonest faults,
//! "invalid shape, data type, or offset for tensor" or "incomplete metadata, file not fully
//! covered", naming no tensor. [`parse`] opens the bytes with the crate, and when it refuses
//! them reads the header again itself to say which tensor is wrong and how (its shape and dtype
//! against its byte range, a range past the end of the file). Every reader of safetensors files
//! in mohaq (packed exports, model bundles, imported state_dicts, the feature cache) goes
//! through it, and the caller adds the file's name.

use std::collections::HashMap;

use safetensors::{Dtype, SafeTensorError, SafeTensors};

/// The tensors of safetensors `bytes` and their string metadata, or what is wrong, naming the
/// tensor at fault where there is one.
pub fn parse(bytes: &[u8]) -> Result<(SafeTensors<'_>, HashMap<String, String>), String> {
    let tensors = SafeTensors::deserialize(bytes).map_err(|e| explain(bytes, &e))?;
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| explain(bytes, &e))?;
    Ok((tensors, header.metadata().clone().unwrap_or_default()))
}

/// One tensor entry of a header as written, before any check.
struct Entry {
    name: String,
    dtype: String,
    shape: Vec<u64>,
    offsets: (u64, u64),
}

/// The crate's error with the tensor and the fault spelled out, when the header can be read.
fn explain(bytes: &[u8], err: &SafeTensorError) -> String {
    let generic = format!("not a valid safetensors file: {err}");
    let Some((entries, data_len)) = read_header(bytes) else {
        return generic;
    };
    match err {
        SafeTensorError::TensorInvalidInfo
        | SafeTensorError::InvalidOffset(_)
        | SafeTensorError::MisalignedSlice
        | SafeTensorError::ValidationOverflow
        | SafeTensorError::MetadataIncompleteBuffer => {
            first_fault(&entries, data_len).unwrap_or(generic)
        }
        _ => generic,
    }
}

/// The entries of the header (in data order) and the number of data bytes after it.
fn read_header(bytes: &[u8]) -> Option<(Vec<Entry>, u64)> {
    let n = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?);
    let end = usize::try_from(n).ok()?.checked_add(8)?;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(bytes.get(8..end)?).ok()?;
    let mut entries: Vec<Entry> = header
        .iter()
        .filter(|(name, _)| name.as_str() != "__metadata__")
        .map(|(name, info)| {
            let numbers = |key: &str| -> Vec<u64> {
                info.get(key)
                    .and_then(|v| v.as_array())
                    .map(|a| a.iter().filter_map(|x| x.as_u64()).collect())
                    .unwrap_or_default()
            };
            let offsets = numbers("data_offsets");
            Entry {
                name: name.clone(),
                dtype: info
                    .get("dtype")
                    .and_then(|d| d.as_str())
                    .unwrap_or("?")
                    .to_string(),
                shape: numbers("shape"),
                offsets: (
                    offsets.first().copied().unwrap_or(0),
                    offsets.get(1).copied().unwrap_or(0),
                ),
            }
        })
        .collect();
    entries.sort_by_key(|e| e.offsets);
    Some((entries, (bytes.len() - end) as u64))
}

/// The first fault in data order: a byte range that does not follow the previous one, a size
/// that does not match shape × dtype, data past the end of the file; else extra bytes at the end.
fn first_fault(entries: &[Entry], data_len: u64) -> Option<String> {
    let mut expected_start = 0;
    for e in entries {
        let (start, end) = e.offsets;
        let shape = format!("{:?}", e.shape);
        if start != expected_start || end < start {
            return Some(format!(
                "tensor `{}`: its data_offsets [{start}, {end}] should start at byte \
                 {expected_start}, where the previous tensor ends (a damaged or hand-edited header)",
                e.name
            ));
        }
        let bits = serde_json::from_value::<Dtype>(serde_json::Value::String(e.dtype.clone()))
            .ok()
            .map(|d| d.bitsize() as u128);
        let elements = e
            .shape
            .iter()
            .try_fold(1u128, |n, &d| n.checked_mul(u128::from(d)));
        if let (Some(bits), Some(elements)) = (bits, elements) {
            let need = elements.checked_mul(bits).map(|b| b.div_ceil(8));
            if need != Some(u128::from(end - start)) {
                return Some(format!(
                    "tensor `{}`: the header says {} {shape}, which is {} bytes, but its \
                     data_offsets [{start}, {end}] hold {} bytes (the shape, dtype or offsets \
                     were changed, or the file was written wrongly)",
                    e.name,
                    e.dtype,
                    need.map_or("too many".to_string(), |n| n.to_string()),
                    end - start
                ));
            }
        }
        if end > data_len {
            return Some(format!(
                "tensor `{}` ({} {shape}) needs data bytes {start}..{end}, but the file has only \
                 {data_len} bytes of data after its header: the file is truncated (copy or \
                 download it again)",
                e.name, e.dtype
            ));
        }
        expected_start = end;
    }
    (data_len > expected_start).then(|| {
        format!(
            "{} bytes after the last tensor{}: the header does not describe the whole file \
             (a damaged header, or data appended to the file)",
            data_len - expected_start,
            entries
                .last()
                .map_or(String::new(), |e| format!(" `{}`", e.name))
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file whose header is exactly `header` (JSON), followed by `data_len` zero bytes.
    fn file(header: &str, data_len: usize) -> Vec<u8> {
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header.as_bytes());
        bytes.resize(bytes.len() + data_len, 0);
        bytes
    }

    fn error(header: &str, data_len: usize) -> String {
        match parse(&file(header, data_len)) {
            Ok(_) => panic!("accepted {header} with {data_len} data bytes"),
            Err(e) => e,
        }
    }

    #[test]
    fn a_valid_file_opens_with_its_metadata() {
        let bytes = file(
            r#"{"__metadata__":{"k":"v"},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}"#,
            24,
        );
        let (tensors, meta) = parse(&bytes).unwrap();
        assert_eq!(tensors.tensor("w").unwrap().shape(), &[2, 3]);
        assert_eq!(meta.get("k").map(String::as_str), Some("v"));
    }

    #[test]
    fn a_shape_that_does_not_match_its_bytes_names_the_tensor_and_both_sizes() {
        let e = error(
            r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[8,20]}}"#,
            20,
        );
        assert!(
            e.contains("tensor `w`") && e.contains("F32 [2, 3]") && e.contains("24 bytes"),
            "{e}"
        );
        assert!(e.contains("hold 12 bytes"), "{e}");
    }

    #[test]
    fn a_truncated_file_names_the_tensor_past_the_end() {
        let e = error(
            r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"I8","shape":[4,4],"data_offsets":[8,24]}}"#,
            12,
        );
        assert!(
            e.contains("tensor `w`") && e.contains("truncated") && e.contains("only 12 bytes"),
            "{e}"
        );
    }

    #[test]
    fn extra_bytes_and_out_of_order_offsets_are_explained() {
        let e = error(
            r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
            10,
        );
        assert!(e.contains("6 bytes after the last tensor `w`"), "{e}");
        let e = error(
            r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#,
            12,
        );
        assert!(
            e.contains("tensor `b`") && e.contains("should start at byte 4"),
            "{e}"
        );
    }

    #[test]
    fn bytes_that_are_not_safetensors_keep_the_crates_reason() {
        let e = parse(b"not a model").err().unwrap();
        assert!(e.starts_with("not a valid safetensors file"), "{e}");
    }
}
