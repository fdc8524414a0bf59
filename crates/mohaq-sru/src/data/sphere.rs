//! NIST SPHERE (`NIST_1A`) header parsing: the container of every audio file of the LDC TIMIT.
//!
//! The header is ASCII: the line `NIST_1A`, the header length in bytes (normally 1024) on the next
//! line, then `key -type value` lines up to `end_head`. Samples follow the header. Only
//! uncompressed PCM is read; shorten/wavpack-compressed files (as some LDC releases ship) are
//! rejected with a clear error rather than decoded as noise.

use std::collections::HashMap;
use std::path::Path;

use super::error::DataError;

/// The header fields this crate needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SphereHeader {
    /// Bytes before the first sample.
    pub header_len: usize,
    pub sample_count: u64,
    pub sample_rate: u32,
    pub channel_count: u32,
    pub sample_n_bytes: u32,
    /// `true` for byte format `01` (little-endian), `false` for `10` (big-endian).
    pub little_endian: bool,
    /// The `sample_coding` field, `pcm` when absent.
    pub sample_coding: String,
}

/// True when `bytes` start like a SPHERE file.
pub fn is_sphere(bytes: &[u8]) -> bool {
    bytes.starts_with(b"NIST_1A")
}

fn malformed(path: &Path, reason: impl Into<String>) -> DataError {
    DataError::AudioFormat {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Parses the header at the start of `bytes`.
pub fn parse_header(path: &Path, bytes: &[u8]) -> Result<SphereHeader, DataError> {
    if !is_sphere(bytes) {
        return Err(malformed(path, "missing NIST_1A magic"));
    }
    // The header length sits on the second line; only that prefix is needed to find the rest.
    let prefix = &bytes[..bytes.len().min(64)];
    let prefix = String::from_utf8_lossy(prefix);
    let mut lines = prefix.lines();
    lines.next();
    let header_len: usize = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .ok_or_else(|| malformed(path, "SPHERE header length missing on line 2"))?;
    if header_len < 16 || header_len > bytes.len() {
        return Err(malformed(
            path,
            format!(
                "SPHERE header length {header_len} exceeds the file ({} bytes)",
                bytes.len()
            ),
        ));
    }
    let text = std::str::from_utf8(&bytes[..header_len])
        .map_err(|_| malformed(path, "SPHERE header is not ASCII"))?;
    let mut fields: HashMap<&str, &str> = HashMap::new();
    let mut ended = false;
    for line in text.lines().skip(2) {
        let line = line.trim();
        if line == "end_head" {
            ended = true;
            break;
        }
        if line.is_empty() || line.starts_with(';') {
            continue;
        }
        // `key -type value`; string values may contain spaces, so split twice only.
        let mut parts = line.splitn(3, ' ');
        let (Some(key), Some(_ty), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(malformed(
                path,
                format!("SPHERE header line {line:?} is not `key -type value`"),
            ));
        };
        fields.insert(key, value.trim());
    }
    if !ended {
        return Err(malformed(path, "SPHERE header has no end_head"));
    }
    let int = |key: &str, default: Option<u64>| -> Result<u64, DataError> {
        match fields.get(key) {
            Some(v) => v.parse().map_err(|_| {
                malformed(
                    path,
                    format!("SPHERE field {key} = {v:?} is not an integer"),
                )
            }),
            None => default.ok_or_else(|| malformed(path, format!("SPHERE field {key} missing"))),
        }
    };
    let sample_coding = fields.get("sample_coding").unwrap_or(&"pcm").to_string();
    let sample_n_bytes = int("sample_n_bytes", Some(2))? as u32;
    let byte_format = fields.get("sample_byte_format").copied().unwrap_or("01");
    let little_endian = match byte_format {
        "01" | "1" => true,
        "10" => false,
        other => {
            // Compressed files carry e.g. "shortpack-v0" here.
            return Err(DataError::CompressedSphere {
                path: path.to_path_buf(),
                coding: other.to_string(),
            });
        }
    };
    Ok(SphereHeader {
        header_len,
        sample_count: int("sample_count", None)?,
        sample_rate: int("sample_rate", None)? as u32,
        channel_count: int("channel_count", Some(1))? as u32,
        sample_n_bytes,
        little_endian,
        sample_coding,
    })
}

/// Decodes the samples of a SPHERE file (mono, 16-bit, uncompressed PCM only).
///
/// Checks in the order a user would fix them: compression, channels, sample width, length.
pub fn decode(path: &Path, bytes: &[u8]) -> Result<(SphereHeader, Vec<i16>), DataError> {
    let header = parse_header(path, bytes)?;
    let coding = header.sample_coding.to_ascii_lowercase();
    if coding != "pcm" && coding != "linear" {
        return Err(DataError::CompressedSphere {
            path: path.to_path_buf(),
            coding: header.sample_coding,
        });
    }
    if header.channel_count != 1 {
        return Err(DataError::Channels {
            path: path.to_path_buf(),
            found: header.channel_count,
        });
    }
    if header.sample_n_bytes != 2 {
        return Err(DataError::SampleWidth {
            path: path.to_path_buf(),
            found: header.sample_n_bytes * 8,
            supported: "16-bit samples",
        });
    }
    let data = &bytes[header.header_len..];
    let available = (data.len() / 2) as u64;
    if available < header.sample_count {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            expected: header.sample_count,
            found: available,
        });
    }
    let n = header.sample_count as usize;
    let samples = data[..2 * n]
        .chunks_exact(2)
        .map(|b| {
            let pair = [b[0], b[1]];
            if header.little_endian {
                i16::from_le_bytes(pair)
            } else {
                i16::from_be_bytes(pair)
            }
        })
        .collect();
    Ok((header, samples))
}

/// Writes a minimal uncompressed SPHERE file (used by tests and fixtures).
pub fn encode(samples: &[i16], sample_rate: u32, extra_fields: &[&str]) -> Vec<u8> {
    let mut header = format!(
        "NIST_1A\n   1024\nsample_count -i {}\nsample_rate -i {sample_rate}\nchannel_count -i 1\nsample_n_bytes -i 2\nsample_byte_format -s2 01\n",
        samples.len()
    );
    for field in extra_fields {
        header.push_str(field);
        header.push('\n');
    }
    header.push_str("end_head\n");
    let mut out = header.into_bytes();
    out.resize(1024, b' ');
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let samples: Vec<i16> = (0..100).map(|i| (i * 300 - 15000) as i16).collect();
        let bytes = encode(&samples, 16000, &["sample_coding -s3 pcm"]);
        let (h, s) = decode(Path::new("x.wav"), &bytes).unwrap();
        assert_eq!(h.sample_rate, 16000);
        assert_eq!(h.header_len, 1024);
        assert_eq!(s, samples);
    }

    #[test]
    fn big_endian_is_read() {
        let samples = [1i16, -2, 300];
        let mut bytes = encode(&samples, 16000, &[]);
        let text = String::from_utf8_lossy(&bytes[..1024]).replace("-s2 01", "-s2 10");
        bytes[..1024].copy_from_slice(text.as_bytes());
        for (i, s) in samples.iter().enumerate() {
            bytes[1024 + 2 * i..1024 + 2 * i + 2].copy_from_slice(&s.to_be_bytes());
        }
        assert_eq!(decode(Path::new("x"), &bytes).unwrap().1, samples);
    }

    #[test]
    fn shorten_is_rejected() {
        let bytes = encode(
            &[0; 10],
            16000,
            &["sample_coding -s26 pcm,embedded-shorten-v2.00"],
        );
        let err = decode(Path::new("a/b.wav"), &bytes).unwrap_err();
        assert!(matches!(err, DataError::CompressedSphere { .. }), "{err}");
        assert!(err.to_string().contains("a/b.wav") && err.to_string().contains("shorten"));
    }

    #[test]
    fn truncated_is_reported() {
        let mut bytes = encode(&[5; 100], 16000, &[]);
        bytes.truncate(1024 + 150);
        match decode(Path::new("t.wav"), &bytes) {
            Err(DataError::Truncated {
                expected: 100,
                found: 75,
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn garbage_header_is_an_error_not_a_panic() {
        for bytes in [
            &b"NIST_1A\n"[..],
            b"NIST_1A\n  99999\n",
            b"NIST_1A\n   20\nxx\n\n\n\n\n\n\n\n\n\n",
        ] {
            assert!(parse_header(Path::new("g"), bytes).is_err());
        }
    }
}
