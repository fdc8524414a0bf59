//! Reading a long recording block by block, so that memory does not grow with its length.
//!
//! Why: `mohaq infer` on half an hour of audio held the file's bytes, its samples as floats and
//! as integers at once (about 1.3 KB per 10 ms frame). An [`AudioStream`] reads the samples of a
//! WAV, SPHERE or FLAC file from disk a block (FLAC: a frame) at a time, converted exactly as
//! [`super::audio`] converts a whole file (the same per-sample scaling and per-frame downmix),
//! so a streamed recording gives the same samples, bit for bit.
//!
//! A file at another rate is resampled as it is read, by [`resample::ChunkedResampler`], which
//! gives the whole-file resampler's samples bit for bit. [`AudioStream::open`] answers `None` for
//! anything irregular (a truncated WAV, a header it cannot find in the first [`HEADER_PROBE`]
//! bytes, a FLAC without its length, a conversion the policy does not allow), and the caller
//! reads the file whole, which also gives the usual error for a broken one. A FLAC file that
//! ends early is found only while it is read: the same "truncated" error, then.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::audio::{detect_format, AudioFormat, AudioPolicy, Conversion};
use super::error::DataError;
use super::{resample, sphere, wav};

/// Bytes read to find the header (a WAV whose `data` chunk starts later is read whole).
pub const HEADER_PROBE: u64 = 1 << 20;

/// How the samples of the file are stored.
#[derive(Clone, Copy, Debug)]
enum Encoding {
    /// RIFF WAV data: little-endian, `bits` wide, integer or float.
    Wav(wav::WavSpec),
    /// NIST SPHERE PCM: 16-bit mono in the header's byte order.
    Sphere { little_endian: bool },
}

/// Where the samples come from.
enum Source {
    /// Uncompressed samples read straight from the file.
    Pcm {
        reader: BufReader<File>,
        encoding: Encoding,
        sample_bytes: usize,
    },
    /// FLAC frames decoded one at a time; `decoded` holds interleaved samples (int16 scale) of
    /// the last frame not handed out yet.
    Flac {
        reader: Box<claxon::FlacReader<BufReader<File>>>,
        scale: f32,
        decoded: Vec<f32>,
    },
}

/// The mono samples of one recording at the policy's rate, read in blocks.
pub struct AudioStream {
    path: PathBuf,
    source: Source,
    channels: usize,
    /// Frames (one sample per channel) not read yet.
    remaining: u64,
    /// Samples (per channel) read so far, for error messages.
    read: u64,
    /// Frames in the file.
    frames: u64,
    /// Mono samples given out in all, after resampling.
    total: u64,
    conversion: Conversion,
    /// For a file at another rate: its resampler, and output not handed out yet.
    resampler: Option<resample::ChunkedResampler>,
    converted: Vec<f32>,
}

impl AudioStream {
    /// Opens `path` when it can be streamed exactly as it would be read whole: WAV (any width
    /// and channel count), SPHERE PCM or FLAC, at `policy.sample_rate` or, when the policy
    /// converts, at any rate. `Ok(None)`: read the file whole instead. Errors are those of
    /// opening the file.
    pub fn open(path: &Path, policy: AudioPolicy) -> Result<Option<Self>, DataError> {
        let mut file = File::open(path).map_err(|e| DataError::io(path, e))?;
        let file_len = file.metadata().map_err(|e| DataError::io(path, e))?.len();
        let mut head = Vec::new();
        (&mut file)
            .take(HEADER_PROBE)
            .read_to_end(&mut head)
            .map_err(|e| DataError::io(path, e))?;
        if detect_format(&head) == Some(AudioFormat::Flac) {
            return Self::open_flac(path, policy);
        }
        let layout = match detect_format(&head) {
            Some(AudioFormat::Wav) => wav::data_chunk(path, &head).ok().map(|(spec, at, len)| {
                let frame_bytes = u64::from(spec.channels * spec.bits / 8);
                (Encoding::Wav(spec), spec, at as u64, len / frame_bytes)
            }),
            Some(AudioFormat::Sphere) => sphere::parse_header(path, &head).ok().and_then(|h| {
                let coding = h.sample_coding.to_ascii_lowercase();
                let pcm = (coding == "pcm" || coding == "linear")
                    && h.channel_count == 1
                    && h.sample_n_bytes == 2;
                pcm.then(|| {
                    let spec = wav::WavSpec {
                        sample_rate: h.sample_rate,
                        channels: 1,
                        bits: 16,
                        float: false,
                    };
                    let encoding = Encoding::Sphere {
                        little_endian: h.little_endian,
                    };
                    (encoding, spec, h.header_len as u64, h.sample_count)
                })
            }),
            _ => None,
        };
        let Some((encoding, spec, data_start, frames)) = layout else {
            return Ok(None);
        };
        let frame_bytes = u64::from(spec.channels * spec.bits / 8);
        let complete = file_len.saturating_sub(data_start) / frame_bytes >= frames;
        let refused =
            (spec.channels != 1 || spec.sample_rate != policy.sample_rate) && !policy.convert;
        if refused || spec.sample_rate == 0 || frames == 0 || !complete {
            return Ok(None);
        }
        file.seek(SeekFrom::Start(data_start))
            .map_err(|e| DataError::io(path, e))?;
        let source = Source::Pcm {
            reader: BufReader::with_capacity(1 << 16, file),
            encoding,
            sample_bytes: (spec.bits / 8) as usize,
        };
        let conversion = Conversion {
            source_rate: spec.sample_rate,
            target_rate: policy.sample_rate,
            channels: spec.channels,
            bits: spec.bits,
            float: spec.float,
        };
        Self::new(path, source, conversion, frames)
    }

    /// The stream of `frames` frames from `source`, with a resampler when the rates differ;
    /// `None` when resampling leaves no sample (the whole read reports it).
    fn new(
        path: &Path,
        source: Source,
        conversion: Conversion,
        frames: u64,
    ) -> Result<Option<Self>, DataError> {
        let (from, to) = (conversion.source_rate, conversion.target_rate);
        let resampler = if from == to {
            None
        } else {
            Some(resample::ChunkedResampler::new(path, from, to, frames)?)
        };
        let total = resampler.as_ref().map_or(frames, |r| r.output_len());
        if total == 0 {
            return Ok(None);
        }
        Ok(Some(Self {
            path: path.to_path_buf(),
            source,
            channels: conversion.channels as usize,
            remaining: frames,
            read: 0,
            frames,
            total,
            conversion,
            resampler,
            converted: Vec::new(),
        }))
    }

    /// A FLAC file whose stream info gives its length, at the policy's rate or converted; the
    /// samples are scaled as the whole-file decoder scales them.
    fn open_flac(path: &Path, policy: AudioPolicy) -> Result<Option<Self>, DataError> {
        let file = File::open(path).map_err(|e| DataError::io(path, e))?;
        let Ok(reader) = claxon::FlacReader::new(BufReader::with_capacity(1 << 16, file)) else {
            return Ok(None);
        };
        let info = reader.streaminfo();
        let frames = info.samples.unwrap_or(0);
        let usable = (4..=32).contains(&info.bits_per_sample)
            && info.channels > 0
            && ((info.channels == 1 && info.sample_rate == policy.sample_rate) || policy.convert)
            && info.sample_rate > 0
            && frames > 0;
        if !usable {
            return Ok(None);
        }
        let source = Source::Flac {
            reader: Box::new(reader),
            scale: super::audio::flac_scale(info.bits_per_sample),
            decoded: Vec::new(),
        };
        let conversion = Conversion {
            source_rate: info.sample_rate,
            target_rate: policy.sample_rate,
            channels: info.channels,
            bits: info.bits_per_sample,
            float: false,
        };
        Self::new(path, source, conversion, frames)
    }

    /// Mono samples the stream gives, after resampling.
    pub fn len(&self) -> u64 {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// What the file held and what is done to it.
    pub fn conversion(&self) -> Conversion {
        self.conversion
    }

    /// Up to `max` next samples, appended to `out`; how many were appended (0 at the end).
    pub fn read_into(&mut self, max: usize, out: &mut Vec<i16>) -> Result<usize, DataError> {
        if self.resampler.is_none() {
            let n = (max as u64).min(self.remaining) as usize;
            if n > 0 {
                let mono = self.read_mono(n)?;
                out.extend(mono.iter().map(|&v| super::audio::to_int16(v)));
            }
            return Ok(n);
        }
        while self.converted.len() < max && self.remaining > 0 {
            let n = (resample::CHUNK_FRAMES as u64).min(self.remaining) as usize;
            let mono = self.read_mono(n)?;
            if let Some(resampler) = self.resampler.as_mut() {
                resampler.push(&mono, &mut self.converted)?;
            }
        }
        let n = max.min(self.converted.len());
        out.extend(self.converted.drain(..n).map(super::audio::to_int16));
        Ok(n)
    }

    /// The next `n` frames (`n` at most those left) as mono samples on the int16 scale.
    fn read_mono(&mut self, n: usize) -> Result<Vec<f32>, DataError> {
        let values = match &mut self.source {
            Source::Pcm {
                reader,
                encoding,
                sample_bytes,
            } => {
                let mut raw = vec![0u8; n * self.channels * *sample_bytes];
                reader
                    .read_exact(&mut raw)
                    .map_err(|e| DataError::io(&self.path, e))?;
                pcm_values(
                    &self.path,
                    &raw,
                    *encoding,
                    *sample_bytes,
                    self.channels,
                    self.read,
                )?
            }
            Source::Flac {
                reader,
                scale,
                decoded,
            } => {
                let wanted = n * self.channels;
                let (path, total, read, channels) =
                    (&self.path, self.frames, self.read, self.channels);
                let truncated = |buffered: usize| DataError::Truncated {
                    path: path.clone(),
                    expected: total,
                    found: read + (buffered / channels) as u64,
                };
                while decoded.len() < wanted {
                    let block = reader
                        .blocks()
                        .read_next_or_eof(Vec::new())
                        .map_err(|e| match e {
                            claxon::Error::IoError(_) => truncated(decoded.len()),
                            other => DataError::AudioFormat {
                                path: path.clone(),
                                reason: other.to_string(),
                            },
                        })?
                        .ok_or_else(|| truncated(decoded.len()))?;
                    for i in 0..block.duration() {
                        for ch in 0..block.channels() {
                            decoded.push(block.sample(ch, i) as f32 * *scale);
                        }
                    }
                }
                decoded.drain(..wanted).collect()
            }
        };
        let mono = if self.channels > 1 {
            resample::downmix(&values, self.channels)
        } else {
            values
        };
        self.remaining -= n as u64;
        self.read += n as u64;
        Ok(mono)
    }
}

/// The samples of raw PCM bytes on the int16 scale; `read` frames came before (error index).
fn pcm_values(
    path: &Path,
    raw: &[u8],
    encoding: Encoding,
    sample_bytes: usize,
    channels: usize,
    read: u64,
) -> Result<Vec<f32>, DataError> {
    Ok(match encoding {
        Encoding::Wav(spec) => {
            let mut values = Vec::with_capacity(raw.len() / sample_bytes);
            for chunk in raw.chunks_exact(sample_bytes) {
                let value = wav::sample_value(chunk, spec.float);
                if !value.is_finite() {
                    let at = read * channels as u64 + values.len() as u64;
                    return Err(wav::not_finite(path, at));
                }
                values.push(value);
            }
            values
        }
        Encoding::Sphere { little_endian } => raw
            .chunks_exact(2)
            .map(|b| {
                let pair = [b[0], b[1]];
                f32::from(if little_endian {
                    i16::from_le_bytes(pair)
                } else {
                    i16::from_be_bytes(pair)
                })
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::audio::{read_audio_with, AudioPolicy};
    use crate::data::wav::{encode, WavSpec};

    fn signal(n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| ((i as f32 * 0.37).sin() * 9000.0 + (i % 7) as f32 * 3.0).round())
            .collect()
    }

    fn streamed(path: &Path, block: usize) -> Option<Vec<i16>> {
        let mut stream = AudioStream::open(path, AudioPolicy::converting(16000)).unwrap()?;
        let mut out = Vec::new();
        while stream.read_into(block, &mut out).unwrap() > 0 {}
        assert_eq!(out.len() as u64, stream.len());
        Some(out)
    }

    /// Every layout streamed equals the whole-file read, at block sizes that do and do not
    /// divide the length, resampled ones included; a truncated file is not streamed.
    #[test]
    fn streamed_samples_equal_the_whole_file_read() {
        let dir = tempfile::tempdir().unwrap();
        let mono = signal(10_007);
        let stereo: Vec<f32> = mono.iter().flat_map(|&s| [s, -s * 0.5]).collect();
        let spec = |channels, bits, float| WavSpec {
            sample_rate: 16000,
            channels,
            bits,
            float,
        };
        let at = |rate, mut spec: WavSpec| {
            spec.sample_rate = rate;
            spec
        };
        let cases = [
            ("m16.wav", encode(spec(1, 16, false), &mono, None)),
            ("8k.wav", encode(at(8000, spec(1, 16, false)), &mono, None)),
            (
                "44k-stereo.wav",
                encode(at(44100, spec(2, 16, false)), &stereo, None),
            ),
            (
                "48k-f32.wav",
                encode(at(48000, spec(1, 32, true)), &mono, None),
            ),
            (
                "m24.wav",
                encode(spec(1, 24, false), &mono, Some((b"LIST", b"abc"))),
            ),
            ("s16.wav", encode(spec(2, 16, false), &stereo, None)),
            ("f32.wav", encode(spec(1, 32, true), &mono, None)),
            ("u8.wav", encode(spec(1, 8, false), &mono, None)),
            (
                "sph.wav",
                sphere::encode(
                    &mono.iter().map(|&v| v as i16).collect::<Vec<_>>(),
                    16000,
                    &[],
                ),
            ),
        ];
        for (name, bytes) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let (whole, conversion) =
                read_audio_with(&path, AudioPolicy::converting(16000)).unwrap();
            for block in [1, 160, 4096, 100_000] {
                assert_eq!(
                    streamed(&path, block).as_ref(),
                    Some(&whole.samples),
                    "{name}, blocks of {block}"
                );
            }
            let stream = AudioStream::open(&path, AudioPolicy::converting(16000))
                .unwrap()
                .unwrap();
            assert_eq!(stream.conversion(), conversion, "{name}");
        }
        let truncated = dir.path().join("cut.wav");
        let bytes = encode(spec(1, 16, false), &mono, None);
        std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
        assert!(
            streamed(&truncated, 4096).is_none(),
            "left to the whole read"
        );
    }

    #[test]
    fn a_non_finite_sample_is_reported_at_its_index() {
        let dir = tempfile::tempdir().unwrap();
        let mut values = vec![100.0f32; 800];
        values[500] = f32::NAN;
        let spec = WavSpec {
            sample_rate: 16000,
            channels: 1,
            bits: 32,
            float: true,
        };
        let path = dir.path().join("nan.wav");
        std::fs::write(&path, encode(spec, &values, None)).unwrap();
        let mut stream = AudioStream::open(&path, AudioPolicy::converting(16000))
            .unwrap()
            .unwrap();
        let mut out = Vec::new();
        stream.read_into(300, &mut out).unwrap();
        let err = stream.read_into(300, &mut out).unwrap_err().to_string();
        assert!(
            err.contains("nan.wav") && err.contains("sample 500"),
            "{err}"
        );
    }
}
