//! `mohaq data check`: every problem of a corpus at once, rather than one per run.

use std::path::Path;

use rayon::prelude::*;

use super::audio::{read_audio_with, AudioPolicy};
use super::corpus::{Corpus, UttEntry};
use super::error::DataError;
use super::labels::label_problems;

/// The result of checking a corpus.
#[derive(Debug)]
pub struct CheckReport {
    /// Utterances examined.
    pub utterances: usize,
    /// Every problem found, in utterance order.
    pub problems: Vec<DataError>,
}

impl CheckReport {
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Problems of one utterance: its audio (format, rate, channels, length) and its labels (syntax,
/// phone set, gaps, overlaps, segments past the end of the audio).
///
/// Under a converting `policy` (`mohaq data check --resample`) other rates and channel counts
/// are accepted; labels are then checked against the length after resampling.
pub fn check_utterance(entry: &UttEntry, policy: AudioPolicy) -> Vec<DataError> {
    let mut problems = Vec::new();
    let num_samples = match read_audio_with(&entry.audio, policy) {
        Ok((audio, _)) => Some(audio.samples.len() as u64),
        Err(e) => {
            problems.push(e);
            None
        }
    };
    if entry.labels.exists() {
        problems.extend(label_problems(&entry.labels, entry.phone_set, num_samples));
    } else {
        problems.push(DataError::MissingLabels {
            path: entry.labels.clone(),
        });
    }
    problems
}

/// Checks every utterance under `data_dir` (in parallel; problems in id order); audio must be
/// mono at `sample_rate`.
pub fn check_corpus(data_dir: &Path, sample_rate: u32) -> Result<CheckReport, DataError> {
    check_corpus_with(data_dir, AudioPolicy::strict(sample_rate))
}

/// [`check_corpus`] under any audio policy.
pub fn check_corpus_with(data_dir: &Path, policy: AudioPolicy) -> Result<CheckReport, DataError> {
    let corpus = Corpus::discover(data_dir)?;
    let per_utterance: Vec<Vec<DataError>> = corpus
        .utterances
        .par_iter()
        .map(|u| check_utterance(u, policy))
        .collect();
    let mut problems: Vec<DataError> = per_utterance.into_iter().flatten().collect();
    problems.extend(
        corpus
            .orphan_labels
            .iter()
            .map(|path| DataError::MissingAudio {
                path: path.clone(),
                expected: if path.components().any(|c| c.as_os_str() == "kathleen") {
                    "flac"
                } else {
                    "wav"
                },
            }),
    );
    Ok(CheckReport {
        utterances: corpus.utterances.len(),
        problems,
    })
}
