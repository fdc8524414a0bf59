//! RIFF WAV reading, written from the RIFF/WAVE definition rather than taken from hound.
//!
//! Why our own reader: hound does not skip the pad byte that RIFF puts after an odd-sized chunk,
//! so a valid file with, say, a 3-byte `LIST` chunk before `data` fails with "Failed to read
//! enough bytes" (Python's `wave` and sox read it). Owning the chunk walk also lets every error
//! name the chunk that is wrong. Integer PCM of 8 (unsigned), 16, 24 and 32 bits and IEEE float of
//! 32 and 64 bits are read, plain or as `WAVE_FORMAT_EXTENSIBLE`.

use std::path::Path;

use super::error::DataError;

/// `WAVE_FORMAT_PCM`, `WAVE_FORMAT_IEEE_FLOAT`, `WAVE_FORMAT_EXTENSIBLE`.
const FORMAT_PCM: u16 = 1;
const FORMAT_FLOAT: u16 = 3;
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;

/// How the samples of a `data` chunk are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WavSpec {
    pub sample_rate: u32,
    pub channels: u32,
    /// Container bits per sample (8, 16, 24, 32 or 64).
    pub bits: u32,
    pub float: bool,
}

/// A decoded WAV file: interleaved samples on the int16 scale (±32768), which is the scale Kaldi
/// computes features on, so 16-bit files keep their exact values.
#[derive(Clone, Debug, PartialEq)]
pub struct WavData {
    pub spec: WavSpec,
    /// Frames × channels, interleaved.
    pub samples: Vec<f32>,
}

fn malformed(path: &Path, reason: impl Into<String>) -> DataError {
    DataError::AudioFormat {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Reads the header only: the spec and the number of frames the `data` chunk announces.
pub fn probe(path: &Path, bytes: &[u8]) -> Result<(WavSpec, u64), DataError> {
    let (spec, _, data_len) = walk_chunks(path, bytes)?;
    let frame_bytes = u64::from(spec.channels * spec.bits / 8);
    Ok((spec, data_len / frame_bytes))
}

/// Decodes a whole WAV file held in memory.
pub fn decode(path: &Path, bytes: &[u8]) -> Result<WavData, DataError> {
    let (spec, data_start, data_len) = walk_chunks(path, bytes)?;
    let sample_bytes = (spec.bits / 8) as usize;
    let frame_bytes = sample_bytes * spec.channels as usize;
    let expected = data_len / frame_bytes as u64;
    let available = (bytes.len() - data_start) / frame_bytes;
    if (available as u64) < expected {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            expected,
            found: available as u64,
        });
    }
    let data = &bytes[data_start..data_start + expected as usize * frame_bytes];
    let mut samples = Vec::with_capacity(data.len() / sample_bytes);
    for raw in data.chunks_exact(sample_bytes) {
        let value = sample_value(raw, spec.float);
        if !value.is_finite() {
            return Err(not_finite(path, samples.len() as u64));
        }
        samples.push(value);
    }
    Ok(WavData { spec, samples })
}

/// The error for a NaN or infinite float sample at interleaved index `index`.
pub(crate) fn not_finite(path: &Path, index: u64) -> DataError {
    malformed(
        path,
        format!("sample {index} is not a finite number (NaN or infinity in float PCM)"),
    )
}

/// The format, the byte offset of the samples and the byte length the `data` chunk announces,
/// from the file's first bytes (the samples themselves need not be there): for streaming.
pub(crate) fn data_chunk(path: &Path, head: &[u8]) -> Result<(WavSpec, usize, u64), DataError> {
    walk_chunks(path, head)
}

/// One little-endian sample on the int16 scale.
pub(crate) fn sample_value(raw: &[u8], float: bool) -> f32 {
    match (raw.len(), float) {
        (1, _) => (f32::from(raw[0]) - 128.0) * 256.0,
        (2, _) => f32::from(i16::from_le_bytes([raw[0], raw[1]])),
        (3, _) => {
            let v = i32::from_le_bytes([0, raw[0], raw[1], raw[2]]) >> 8;
            v as f32 / 256.0
        }
        (4, false) => i32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) as f32 / 65536.0,
        (4, true) => {
            f32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]).clamp(-1.0, 1.0) * 32768.0
        }
        _ => {
            let mut b = [0u8; 8];
            b.copy_from_slice(raw);
            (f64::from_le_bytes(b).clamp(-1.0, 1.0) * 32768.0) as f32
        }
    }
}

/// Walks the RIFF chunks (skipping the pad byte after odd-sized ones) and returns the format, the
/// offset of the samples and the byte length the `data` chunk announces.
fn walk_chunks(path: &Path, bytes: &[u8]) -> Result<(WavSpec, usize, u64), DataError> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(malformed(
            path,
            "not a RIFF WAVE file (header shorter than 12 bytes or no `WAVE` tag)",
        ));
    }
    let mut at = 12usize;
    let mut spec = None;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let size = u32_at(bytes, at + 4) as usize;
        let body = at + 8;
        if id == b"fmt " {
            if body + size > bytes.len() || size < 16 {
                return Err(malformed(
                    path,
                    format!("`fmt ` chunk of {size} bytes is cut short or smaller than 16 bytes"),
                ));
            }
            spec = Some(parse_fmt(path, &bytes[body..body + size])?);
        } else if id == b"data" {
            let spec =
                spec.ok_or_else(|| malformed(path, "`data` chunk before any `fmt ` chunk"))?;
            return Ok((spec, body, size as u64));
        }
        // RIFF pads every odd-sized chunk with one byte.
        at = body.saturating_add(size).saturating_add(size & 1);
    }
    Err(malformed(
        path,
        if spec.is_none() {
            "no `fmt ` chunk"
        } else {
            "no `data` chunk (the file ends first)"
        },
    ))
}

fn parse_fmt(path: &Path, fmt: &[u8]) -> Result<WavSpec, DataError> {
    let mut tag = u16_at(fmt, 0);
    let channels = u32::from(u16_at(fmt, 2));
    let sample_rate = u32_at(fmt, 4);
    let block_align = u32::from(u16_at(fmt, 12));
    let bits = u32::from(u16_at(fmt, 14));
    if tag == FORMAT_EXTENSIBLE {
        if fmt.len() < 26 {
            return Err(malformed(
                path,
                "WAVE_FORMAT_EXTENSIBLE `fmt ` chunk without its sub-format",
            ));
        }
        // The sub-format GUID starts with the plain format tag.
        tag = u16_at(fmt, 24);
    }
    let float = match tag {
        FORMAT_PCM => false,
        FORMAT_FLOAT => true,
        other => {
            return Err(malformed(
                path,
                format!("WAV format tag {other:#06x} is not supported (only PCM and IEEE float; convert it, e.g. `sox in.wav -e signed -b 16 out.wav`)"),
            ))
        }
    };
    let supported = if float {
        matches!(bits, 32 | 64)
    } else {
        matches!(bits, 8 | 16 | 24 | 32)
    };
    if !supported {
        return Err(DataError::SampleWidth {
            path: path.to_path_buf(),
            found: bits,
            supported: "8, 16, 24 or 32-bit integer and 32 or 64-bit float PCM",
        });
    }
    if channels == 0 || sample_rate == 0 {
        return Err(malformed(
            path,
            format!("`fmt ` chunk says {channels} channels at {sample_rate} Hz"),
        ));
    }
    if block_align != channels * bits / 8 {
        return Err(malformed(
            path,
            format!(
                "block align {block_align} bytes does not match {channels} channels of {bits} bits"
            ),
        ));
    }
    Ok(WavSpec {
        sample_rate,
        channels,
        bits,
        float,
    })
}

/// Writes a WAV file in memory: `samples` interleaved on the int16 scale, stored as `spec` says;
/// `extra_chunk` (id, body) goes before `data` (tests use an odd-sized one). For tests and
/// fixtures.
pub fn encode(spec: WavSpec, samples: &[f32], extra_chunk: Option<(&[u8; 4], &[u8])>) -> Vec<u8> {
    let mut data = Vec::new();
    for &s in samples {
        let x = f64::from(s);
        match (spec.bits, spec.float) {
            (8, _) => data.push(((x / 256.0).round() + 128.0).clamp(0.0, 255.0) as u8),
            (16, _) => {
                data.extend_from_slice(&(x.round().clamp(-32768.0, 32767.0) as i16).to_le_bytes())
            }
            (24, _) => {
                let v = (x * 256.0).round().clamp(-8_388_608.0, 8_388_607.0) as i32;
                data.extend_from_slice(&v.to_le_bytes()[..3]);
            }
            (32, false) => data.extend_from_slice(
                &((x * 65536.0)
                    .round()
                    .clamp(-2_147_483_648.0, 2_147_483_647.0) as i32)
                    .to_le_bytes(),
            ),
            (32, true) => data.extend_from_slice(&((x / 32768.0) as f32).to_le_bytes()),
            _ => data.extend_from_slice(&(x / 32768.0).to_le_bytes()),
        }
    }
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&(if spec.float { FORMAT_FLOAT } else { FORMAT_PCM }).to_le_bytes());
    fmt.extend_from_slice(&(spec.channels as u16).to_le_bytes());
    fmt.extend_from_slice(&spec.sample_rate.to_le_bytes());
    let block = spec.channels * spec.bits / 8;
    fmt.extend_from_slice(&(spec.sample_rate * block).to_le_bytes());
    fmt.extend_from_slice(&(block as u16).to_le_bytes());
    fmt.extend_from_slice(&(spec.bits as u16).to_le_bytes());
    let mut body = b"WAVE".to_vec();
    let mut chunk = |id: &[u8], content: &[u8]| {
        body.extend_from_slice(id);
        body.extend_from_slice(&(content.len() as u32).to_le_bytes());
        body.extend_from_slice(content);
        if content.len() % 2 == 1 {
            body.push(0);
        }
    };
    chunk(b"fmt ", &fmt);
    if let Some((id, content)) = extra_chunk {
        chunk(id, content);
    }
    chunk(b"data", &data);
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn spec(bits: u32, float: bool, channels: u32) -> WavSpec {
        WavSpec {
            sample_rate: 16000,
            channels,
            bits,
            float,
        }
    }

    #[test]
    fn odd_chunk_before_data_is_skipped_with_its_pad_byte() {
        let samples: Vec<f32> = (0..101).map(|i| (i * 97 % 2001 - 1000) as f32).collect();
        let bytes = encode(spec(16, false, 1), &samples, Some((b"LIST", b"abc")));
        // 12 RIFF + 24 fmt + 8 + 3 + 1 pad + 8 data header.
        assert_eq!(&bytes[12 + 24 + 12..12 + 24 + 16], b"data");
        let wav = decode(Path::new("odd.wav"), &bytes).unwrap();
        assert_eq!(wav.samples, samples);
    }

    #[test]
    fn hound_files_decode_identically() {
        let samples: Vec<i16> = (0..500).map(|i| (i * 131 % 60001 - 30000) as i16).collect();
        let bytes = super::super::audio::encode_wav(&samples, 22050, 2);
        let wav = decode(Path::new("h.wav"), &bytes).unwrap();
        assert_eq!(
            wav.spec,
            WavSpec {
                sample_rate: 22050,
                ..spec(16, false, 2)
            }
        );
        let expected: Vec<f32> = samples.iter().map(|&s| f32::from(s)).collect();
        assert_eq!(wav.samples, expected);
    }

    #[test]
    fn malformed_headers_name_the_problem() {
        let good = encode(spec(16, false, 1), &[0.0; 10], None);
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"RIFF\0\0\0\0WAVX".to_vec(), "WAVE"),
            (good[..30].to_vec(), "`fmt ` chunk"),
            (good[..36].to_vec(), "no `data` chunk"),
            (
                {
                    let mut b = good.clone();
                    b[20] = 2; // format tag 2: ADPCM
                    b
                },
                "format tag 0x0002",
            ),
            (
                {
                    let mut b = good.clone();
                    b[32] = 3; // block align
                    b
                },
                "block align 3",
            ),
        ];
        for (bytes, text) in cases {
            let err = decode(Path::new("bad.wav"), &bytes)
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("bad.wav: ") && err.contains(text), "{err}");
        }
        let mut nan = encode(spec(32, true, 1), &[0.0; 4], None);
        let n = nan.len();
        nan[n - 4..].copy_from_slice(&f32::NAN.to_le_bytes());
        let err = decode(Path::new("nan.wav"), &nan).unwrap_err().to_string();
        assert!(err.contains("sample 3 is not a finite number"), "{err}");
    }

    proptest! {
        /// Every width round-trips within its own quantization step (8-bit: 256 on the int16 scale).
        #[test]
        fn every_width_round_trips(
            values in proptest::collection::vec(-32768i32..32768, 1..64),
            which in 0usize..6,
            channels in 1u32..3,
        ) {
            let (bits, float, tolerance) = [(8, false, 256.0), (16, false, 0.0), (24, false, 0.0),
                (32, false, 0.0), (32, true, 0.01), (64, true, 0.0)][which];
            let n = values.len() / channels as usize * channels as usize;
            prop_assume!(n > 0);
            let samples: Vec<f32> = values[..n].iter().map(|&v| v as f32).collect();
            let bytes = encode(spec(bits, float, channels), &samples, None);
            let wav = decode(Path::new("p.wav"), &bytes).unwrap();
            prop_assert_eq!(wav.samples.len(), n);
            for (a, b) in wav.samples.iter().zip(&samples) {
                prop_assert!((a - b).abs() <= tolerance, "{} vs {} at {} bits", a, b, bits);
            }
        }
    }
}
