//! Reading audio: RIFF WAV (hound), FLAC (claxon) and NIST SPHERE (our own header parser).
//!
//! The format is chosen from the file's first bytes, not its name: the LDC TIMIT and one file of
//! the NLTK sample carry SPHERE data under a `.wav`/`.WAV` name.

use std::io::Cursor;
use std::path::Path;

use super::error::DataError;
use super::sphere;

/// Mono 16-bit audio. Samples stay integers: Kaldi computes features on the raw int16 values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audio {
    pub sample_rate: u32,
    pub samples: Vec<i16>,
}

impl Audio {
    /// Duration in seconds.
    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.sample_rate)
    }
}

/// Container formats recognised by their magic bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AudioFormat {
    Wav,
    Flac,
    Sphere,
}

/// Recognises the container from its first bytes.
pub fn detect_format(bytes: &[u8]) -> Option<AudioFormat> {
    if bytes.starts_with(b"RIFF") {
        Some(AudioFormat::Wav)
    } else if bytes.starts_with(b"fLaC") {
        Some(AudioFormat::Flac)
    } else if sphere::is_sphere(bytes) {
        Some(AudioFormat::Sphere)
    } else {
        None
    }
}

/// Reads and decodes an audio file, requiring mono 16-bit samples at `expected_rate`.
pub fn read_audio(path: &Path, expected_rate: u32) -> Result<Audio, DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    decode_audio(path, &bytes, expected_rate)
}

/// Decodes audio already in memory (`path` only names the file in errors).
pub fn decode_audio(path: &Path, bytes: &[u8], expected_rate: u32) -> Result<Audio, DataError> {
    if bytes.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    let audio = match detect_format(bytes) {
        Some(AudioFormat::Wav) => decode_wav(path, bytes)?,
        Some(AudioFormat::Flac) => decode_flac(path, bytes)?,
        Some(AudioFormat::Sphere) => {
            let (header, samples) = sphere::decode(path, bytes)?;
            Audio {
                sample_rate: header.sample_rate,
                samples,
            }
        }
        None => {
            return Err(DataError::AudioFormat {
                path: path.to_path_buf(),
                reason: "not RIFF WAV, FLAC or NIST SPHERE".into(),
            })
        }
    };
    if audio.sample_rate != expected_rate {
        return Err(DataError::SampleRate {
            path: path.to_path_buf(),
            found: audio.sample_rate,
            expected: expected_rate,
        });
    }
    if audio.samples.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(audio)
}

fn decode_wav(path: &Path, bytes: &[u8]) -> Result<Audio, DataError> {
    let format_err = |e: hound::Error| DataError::AudioFormat {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut reader = hound::WavReader::new(Cursor::new(bytes)).map_err(format_err)?;
    let spec = reader.spec();
    check_mono_16_bit(
        path,
        u32::from(spec.channels),
        u32::from(spec.bits_per_sample),
        spec.sample_format == hound::SampleFormat::Int,
    )?;
    let expected = u64::from(reader.len());
    // hound trusts the data-chunk length of the header; a short file shows up as a read error.
    let available = ((bytes.len().saturating_sub(44)) / 2) as u64;
    let mut samples = Vec::with_capacity(expected.min(available) as usize);
    for sample in reader.samples::<i16>() {
        match sample {
            Ok(s) => samples.push(s),
            Err(hound::Error::IoError(_)) => return Err(truncated(path, expected, &samples)),
            Err(e) => return Err(format_err(e)),
        }
    }
    if (samples.len() as u64) < expected {
        return Err(truncated(path, expected, &samples));
    }
    Ok(Audio {
        sample_rate: spec.sample_rate,
        samples,
    })
}

fn decode_flac(path: &Path, bytes: &[u8]) -> Result<Audio, DataError> {
    let format_err = |e: claxon::Error| DataError::AudioFormat {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut reader = claxon::FlacReader::new(Cursor::new(bytes)).map_err(format_err)?;
    let info = reader.streaminfo();
    // FLAC samples are always integers.
    check_mono_16_bit(path, info.channels, info.bits_per_sample, true)?;
    let expected = info.samples;
    let mut samples =
        Vec::with_capacity(expected.unwrap_or(0).min(bytes.len() as u64 * 4) as usize);
    for sample in reader.samples() {
        match sample {
            // 16-bit streams decode to values inside the i16 range.
            Ok(s) => samples.push(s.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16),
            Err(claxon::Error::IoError(_)) => {
                return Err(truncated(path, expected.unwrap_or(0), &samples))
            }
            Err(e) => return Err(format_err(e)),
        }
    }
    if let Some(expected) = expected {
        if (samples.len() as u64) < expected {
            return Err(truncated(path, expected, &samples));
        }
    }
    Ok(Audio {
        sample_rate: info.sample_rate,
        samples,
    })
}

/// The corpora are mono 16-bit integer PCM; anything else is refused naming the file.
fn check_mono_16_bit(
    path: &Path,
    channels: u32,
    bits: u32,
    integer: bool,
) -> Result<(), DataError> {
    if channels != 1 {
        return Err(DataError::Channels {
            path: path.to_path_buf(),
            found: channels,
        });
    }
    if !integer || bits != 16 {
        return Err(DataError::SampleWidth {
            path: path.to_path_buf(),
            found: bits,
        });
    }
    Ok(())
}

/// The file ended after `samples.len()` of its `expected` samples.
fn truncated<T>(path: &Path, expected: u64, samples: &[T]) -> DataError {
    DataError::Truncated {
        path: path.to_path_buf(),
        expected,
        found: samples.len() as u64,
    }
}

/// Encodes mono 16-bit samples as a RIFF WAV file in memory (tests and fixtures).
pub fn encode_wav(samples: &[i16], sample_rate: u32, channels: u16) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = Cursor::new(Vec::new());
    {
        // Writing to memory cannot fail on I/O; an error here would be a bug in this function.
        let mut writer = hound::WavWriter::new(&mut cursor, spec).expect("in-memory WAV writer");
        for s in samples {
            writer.write_sample(*s).expect("in-memory WAV write");
        }
        writer.finalize().expect("in-memory WAV finalize");
    }
    cursor.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_round_trip_and_checks() {
        let samples: Vec<i16> = (0..1000).map(|i| ((i * 37) % 2000 - 1000) as i16).collect();
        let bytes = encode_wav(&samples, 16000, 1);
        let audio = decode_audio(Path::new("a.wav"), &bytes, 16000).unwrap();
        assert_eq!(audio.samples, samples);
        assert!(matches!(
            decode_audio(Path::new("a.wav"), &bytes, 8000),
            Err(DataError::SampleRate {
                found: 16000,
                expected: 8000,
                ..
            })
        ));
        let stereo = encode_wav(&samples, 16000, 2);
        assert!(matches!(
            decode_audio(Path::new("s.wav"), &stereo, 16000),
            Err(DataError::Channels { found: 2, .. })
        ));
        let mut short = bytes.clone();
        short.truncate(44 + 600);
        assert!(matches!(
            decode_audio(Path::new("t.wav"), &short, 16000),
            Err(DataError::Truncated {
                expected: 1000,
                found: 300,
                ..
            })
        ));
        assert!(matches!(
            decode_audio(Path::new("e.wav"), &[], 16000),
            Err(DataError::Empty { .. })
        ));
        assert!(matches!(
            decode_audio(Path::new("x.wav"), b"hello", 16000),
            Err(DataError::AudioFormat { .. })
        ));
    }
}

/// What a header says about an audio file, without decoding its samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AudioInfo {
    pub format: AudioFormat,
    pub sample_rate: u32,
    pub channels: u32,
    pub num_samples: u64,
}

/// Reads only the header of an audio file (for statistics over many files).
pub fn probe_audio(path: &Path) -> Result<AudioInfo, DataError> {
    use std::io::Read;
    let mut head = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(4096).read_to_end(&mut head))
        .map_err(|e| DataError::io(path, e))?;
    if head.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    let format_err = |reason: String| DataError::AudioFormat {
        path: path.to_path_buf(),
        reason,
    };
    match detect_format(&head) {
        Some(AudioFormat::Sphere) => {
            let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
            let h = sphere::parse_header(path, &bytes)?;
            Ok(AudioInfo {
                format: AudioFormat::Sphere,
                sample_rate: h.sample_rate,
                channels: h.channel_count,
                num_samples: h.sample_count,
            })
        }
        Some(AudioFormat::Wav) => {
            let reader = hound::WavReader::open(path).map_err(|e| format_err(e.to_string()))?;
            let spec = reader.spec();
            Ok(AudioInfo {
                format: AudioFormat::Wav,
                sample_rate: spec.sample_rate,
                channels: u32::from(spec.channels),
                num_samples: u64::from(reader.duration()),
            })
        }
        Some(AudioFormat::Flac) => {
            let reader = claxon::FlacReader::open(path).map_err(|e| format_err(e.to_string()))?;
            let info = reader.streaminfo();
            let num_samples = info
                .samples
                .ok_or_else(|| format_err("FLAC stream length unknown".into()))?;
            Ok(AudioInfo {
                format: AudioFormat::Flac,
                sample_rate: info.sample_rate,
                channels: info.channels,
                num_samples,
            })
        }
        None => Err(format_err("not RIFF WAV, FLAC or NIST SPHERE".into())),
    }
}
