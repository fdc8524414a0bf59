//! The front end's error type: every variant names the file (and the line for labels) so that a
//! user can go straight to the broken input.

use std::path::PathBuf;

/// Errors of corpus reading, feature computation and the feature cache.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file has no content (or an audio file has no samples).
    #[error("{path}: empty file")]
    Empty { path: PathBuf },
    /// Audio recorded at another rate than the features expect.
    #[error("{path}: sample rate {found} Hz, expected {expected} Hz (resample it; `mohaq infer` and `mohaq data check --resample` convert it)")]
    SampleRate {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    /// More than one channel.
    #[error("{path}: {found} channels, expected 1 (mono); downmix it (`mohaq infer` and `mohaq data check --resample` do)")]
    Channels { path: PathBuf, found: u32 },
    /// Samples that are not 16-bit integers.
    #[error("{path}: {found}-bit samples are not supported (this format takes {supported})")]
    SampleWidth {
        path: PathBuf,
        found: u32,
        supported: &'static str,
    },
    /// Fewer samples than the header announces.
    #[error(
        "{path}: truncated audio: the header announces {expected} samples, the file holds {found}"
    )]
    Truncated {
        path: PathBuf,
        expected: u64,
        found: u64,
    },
    /// Not an audio format this crate reads, or a malformed header.
    #[error("{path}: unsupported or malformed audio: {reason}")]
    AudioFormat { path: PathBuf, reason: String },
    /// A NIST SPHERE file whose samples are compressed (shorten, wavpack, …).
    #[error("{path}: compressed NIST SPHERE (sample_coding {coding}) is not supported; decompress it first, e.g. with sph2pipe")]
    CompressedSphere { path: PathBuf, coding: String },
    /// A label line that is not `start end label` with integer sample indices and start < end.
    #[error("{path}:{line}: malformed label line: {reason}")]
    LabelSyntax {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    /// A label outside the phone set of the corpus.
    #[error("{path}:{line}: unknown phone label {label:?} (expected a {set} label)")]
    UnknownPhone {
        path: PathBuf,
        line: usize,
        label: String,
        set: &'static str,
    },
    /// A segment starts after the previous one ended.
    #[error("{path}:{line}: gap between labels: previous segment ends at sample {previous_end}, this one starts at {start}")]
    LabelGap {
        path: PathBuf,
        line: usize,
        previous_end: u64,
        start: u64,
    },
    /// A segment starts before the previous one ended.
    #[error("{path}:{line}: overlapping labels: previous segment ends at sample {previous_end}, this one starts at {start}")]
    LabelOverlap {
        path: PathBuf,
        line: usize,
        previous_end: u64,
        start: u64,
    },
    /// A segment ends after the last audio sample.
    #[error("{path}:{line}: label ends at sample {end}, past the end of the audio ({num_samples} samples)")]
    LabelPastEnd {
        path: PathBuf,
        line: usize,
        end: u64,
        num_samples: u64,
    },
    /// An utterance whose labels leave no frame to train or score on.
    #[error("{path}: no complete feature frame lies inside the labelled span")]
    NoFrames { path: PathBuf },
    /// The data directory holds no corpus this crate recognises.
    #[error("{path}: no corpus found (expected timit-sample/, kathleen/ or an LDC TIMIT with TRAIN/ and TEST/)")]
    NoCorpus { path: PathBuf },
    /// An utterance's audio has no label file next to it.
    #[error("{path}: missing label file")]
    MissingLabels { path: PathBuf },
    /// A label file has no audio file next to it (it is not used).
    #[error("{path}: label file without audio (expected a .{expected} file of the same name beside it); it is not used")]
    MissingAudio {
        path: PathBuf,
        expected: &'static str,
    },
    /// No utterance with this id in the corpus.
    #[error("{data_dir}: no utterance with id {id:?}")]
    UnknownUtterance { data_dir: PathBuf, id: String },
    /// A feature-cache file that exists but cannot be decoded.
    #[error("{path}: corrupt feature-cache entry: {reason}")]
    Cache { path: PathBuf, reason: String },
    /// Options that cannot produce features (e.g. a window longer than the FFT).
    #[error("invalid feature options: {0}")]
    Options(String),
}

impl DataError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }
}
