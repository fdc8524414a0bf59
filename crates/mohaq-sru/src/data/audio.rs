//! Reading audio: RIFF WAV ([`super::wav`]), FLAC (claxon) and NIST SPHERE ([`super::sphere`]),
//! converted under an [`AudioPolicy`] to the mono 16 kHz int16 samples the features are made of.
//!
//! The format is chosen from the file's first bytes, not its name: the LDC TIMIT and one file of
//! the NLTK sample carry SPHERE data under a `.wav`/`.WAV` name.

use std::io::Cursor;
use std::path::Path;

use super::error::DataError;
use super::{resample, sphere, wav};

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

/// What audio a reader accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AudioPolicy {
    /// The rate the features are computed at.
    pub sample_rate: u32,
    /// Resample other rates and downmix several channels (`mohaq infer`, `data check
    /// --resample`); otherwise they are errors, as a corpus must already be 16 kHz mono.
    pub convert: bool,
}

impl AudioPolicy {
    /// Audio must already be at `sample_rate` and mono (corpora).
    pub fn strict(sample_rate: u32) -> Self {
        AudioPolicy {
            sample_rate,
            convert: false,
        }
    }

    /// Any rate and channel count, converted to mono `sample_rate`.
    pub fn converting(sample_rate: u32) -> Self {
        AudioPolicy {
            sample_rate,
            convert: true,
        }
    }
}

/// What the file held and what was done to it, so the caller can say so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conversion {
    pub source_rate: u32,
    pub target_rate: u32,
    pub channels: u32,
    /// Bits per sample in the file.
    pub bits: u32,
    pub float: bool,
}

impl Conversion {
    pub fn resampled(&self) -> bool {
        self.source_rate != self.target_rate
    }

    pub fn downmixed(&self) -> bool {
        self.channels > 1
    }

    /// Whether the samples changed beyond a lossless widening (rate, channels or width).
    pub fn changed(&self) -> bool {
        self.resampled() || self.downmixed() || self.float || self.bits != 16
    }
}

impl std::fmt::Display for Conversion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.float { "float" } else { "PCM" };
        write!(
            f,
            "{}-bit {kind}, {} Hz, {} channel{}",
            self.bits,
            self.source_rate,
            self.channels,
            if self.channels == 1 { "" } else { "s" }
        )?;
        let mut done = Vec::new();
        if self.resampled() {
            done.push(format!("resampled to {} Hz", self.target_rate));
        }
        if self.downmixed() {
            done.push(format!(
                "downmixed to mono (mean of {} channels)",
                self.channels
            ));
        }
        if self.float || self.bits != 16 {
            done.push("scaled to 16-bit".to_string());
        }
        if !done.is_empty() {
            write!(f, ": {}", done.join(", "))?;
        }
        Ok(())
    }
}

/// Reads and decodes an audio file, requiring mono samples at `expected_rate`.
pub fn read_audio(path: &Path, expected_rate: u32) -> Result<Audio, DataError> {
    read_audio_with(path, AudioPolicy::strict(expected_rate)).map(|(audio, _)| audio)
}

/// Reads and decodes an audio file under `policy`.
pub fn read_audio_with(path: &Path, policy: AudioPolicy) -> Result<(Audio, Conversion), DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    decode_audio_with(path, &bytes, policy)
}

/// Decodes audio already in memory (`path` only names the file in errors), requiring mono
/// samples at `expected_rate`.
pub fn decode_audio(path: &Path, bytes: &[u8], expected_rate: u32) -> Result<Audio, DataError> {
    decode_audio_with(path, bytes, AudioPolicy::strict(expected_rate)).map(|(audio, _)| audio)
}

/// Interleaved samples on the int16 scale, before conversion.
struct Decoded {
    sample_rate: u32,
    channels: u32,
    bits: u32,
    float: bool,
    samples: Vec<f32>,
}

/// Decodes audio under `policy`: 8/16/24/32-bit integer and 32/64-bit float samples are scaled
/// to the int16 range Kaldi works on; other rates and channel counts are converted or refused.
pub fn decode_audio_with(
    path: &Path,
    bytes: &[u8],
    policy: AudioPolicy,
) -> Result<(Audio, Conversion), DataError> {
    if bytes.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    let decoded = match detect_format(bytes) {
        Some(AudioFormat::Wav) => {
            let wav = wav::decode(path, bytes)?;
            Decoded {
                sample_rate: wav.spec.sample_rate,
                channels: wav.spec.channels,
                bits: wav.spec.bits,
                float: wav.spec.float,
                samples: wav.samples,
            }
        }
        Some(AudioFormat::Flac) => decode_flac(path, bytes)?,
        Some(AudioFormat::Sphere) => {
            let (header, samples) = sphere::decode(path, bytes)?;
            Decoded {
                sample_rate: header.sample_rate,
                channels: 1,
                bits: 16,
                float: false,
                samples: samples.into_iter().map(f32::from).collect(),
            }
        }
        None => {
            return Err(DataError::AudioFormat {
                path: path.to_path_buf(),
                reason: "not RIFF WAV, FLAC or NIST SPHERE".into(),
            })
        }
    };
    let conversion = Conversion {
        source_rate: decoded.sample_rate,
        target_rate: policy.sample_rate,
        channels: decoded.channels,
        bits: decoded.bits,
        float: decoded.float,
    };
    if !policy.convert {
        if decoded.channels != 1 {
            return Err(DataError::Channels {
                path: path.to_path_buf(),
                found: decoded.channels,
            });
        }
        if decoded.sample_rate != policy.sample_rate {
            return Err(DataError::SampleRate {
                path: path.to_path_buf(),
                found: decoded.sample_rate,
                expected: policy.sample_rate,
            });
        }
    }
    if decoded.samples.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    let mono = if decoded.channels > 1 {
        resample::downmix(&decoded.samples, decoded.channels as usize)
    } else {
        decoded.samples
    };
    let converted = resample::resample(path, mono, decoded.sample_rate, policy.sample_rate)?;
    let samples: Vec<i16> = converted.iter().map(|&v| to_int16(v)).collect();
    if samples.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok((
        Audio {
            sample_rate: policy.sample_rate,
            samples,
        },
        conversion,
    ))
}

/// A converted sample (int16 scale) as the int16 the features are computed on.
pub(crate) fn to_int16(v: f32) -> i16 {
    v.round().clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16
}

/// FLAC samples are integers of `bits` bits: the factor that puts them on the int16 scale.
pub(crate) fn flac_scale(bits: u32) -> f32 {
    2f32.powi(16 - bits as i32)
}

fn decode_flac(path: &Path, bytes: &[u8]) -> Result<Decoded, DataError> {
    let format_err = |e: claxon::Error| DataError::AudioFormat {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut reader = claxon::FlacReader::new(Cursor::new(bytes)).map_err(format_err)?;
    let info = reader.streaminfo();
    if !(4..=32).contains(&info.bits_per_sample) || info.channels == 0 {
        return Err(DataError::SampleWidth {
            path: path.to_path_buf(),
            found: info.bits_per_sample,
            supported: "4 to 32-bit samples",
        });
    }
    let scale = flac_scale(info.bits_per_sample);
    let expected = info.samples.map(|frames| frames * u64::from(info.channels));
    let mut samples =
        Vec::with_capacity(expected.unwrap_or(0).min(bytes.len() as u64 * 4) as usize);
    for sample in reader.samples() {
        match sample {
            Ok(s) => samples.push(s as f32 * scale),
            Err(claxon::Error::IoError(_)) => {
                return Err(truncated(
                    path,
                    info.samples.unwrap_or(0),
                    samples.len() as u64 / u64::from(info.channels),
                ))
            }
            Err(e) => return Err(format_err(e)),
        }
    }
    if let Some(expected) = expected {
        if (samples.len() as u64) < expected {
            return Err(truncated(
                path,
                expected / u64::from(info.channels),
                samples.len() as u64 / u64::from(info.channels),
            ));
        }
    }
    Ok(Decoded {
        sample_rate: info.sample_rate,
        channels: info.channels,
        bits: info.bits_per_sample,
        float: false,
        samples,
    })
}

/// The file ended after `found` of its `expected` frames.
fn truncated(path: &Path, expected: u64, found: u64) -> DataError {
    DataError::Truncated {
        path: path.to_path_buf(),
        expected,
        found,
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

    /// 44.1 kHz stereo 24-bit, 8 kHz 8-bit and 48 kHz float files all come out as 16 kHz mono
    /// int16 under the converting policy, and the conversion says what was done.
    #[test]
    fn converting_policy_takes_common_formats() {
        use super::wav::{encode, WavSpec};
        let tone = |rate: u32, channels: u32| -> Vec<f32> {
            (0..rate as usize / 4)
                .flat_map(|i| {
                    let v = 8000.0 * (i as f32 * 440.0 * std::f32::consts::TAU / rate as f32).sin();
                    std::iter::repeat_n(v, channels as usize)
                })
                .collect()
        };
        for (rate, channels, bits, float) in [
            (44100, 2, 24, false),
            (8000, 1, 8, false),
            (48000, 1, 32, true),
            (16000, 2, 16, false),
        ] {
            let spec = WavSpec {
                sample_rate: rate,
                channels,
                bits,
                float,
            };
            let bytes = encode(spec, &tone(rate, channels), None);
            let (audio, conversion) =
                decode_audio_with(Path::new("u.wav"), &bytes, AudioPolicy::converting(16000))
                    .unwrap();
            assert_eq!(audio.sample_rate, 16000);
            assert_eq!(audio.samples.len(), 4000, "{conversion}");
            let peak = audio.samples[500..3500]
                .iter()
                .map(|s| s.unsigned_abs())
                .max()
                .unwrap();
            assert!((7700..=8100).contains(&peak), "{conversion}: peak {peak}");
            assert_eq!(conversion.resampled(), rate != 16000);
            assert_eq!(conversion.downmixed(), channels == 2);
            let text = conversion.to_string();
            assert_eq!(text.contains("downmixed to mono"), channels == 2, "{text}");
            assert_eq!(
                text.contains("resampled to 16000 Hz"),
                rate != 16000,
                "{text}"
            );
            // The strict policy refuses what it would have to change.
            let strict = decode_audio(Path::new("u.wav"), &bytes, 16000);
            assert_eq!(strict.is_ok(), rate == 16000 && channels == 1, "{strict:?}");
        }
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
            // The header is usually in the first 4 KiB; a long chunk before `data` needs the rest.
            let (spec, frames) = match wav::probe(path, &head) {
                Ok(found) => found,
                Err(_) => {
                    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
                    wav::probe(path, &bytes)?
                }
            };
            Ok(AudioInfo {
                format: AudioFormat::Wav,
                sample_rate: spec.sample_rate,
                channels: spec.channels,
                num_samples: frames,
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
