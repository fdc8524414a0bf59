//! `mohaq data check`: every problem of a corpus at once, rather than one per run.

use std::path::Path;

use rayon::prelude::*;

use super::audio::read_audio;
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
pub fn check_utterance(entry: &UttEntry, sample_rate: u32) -> Vec<DataError> {
    let mut problems = Vec::new();
    let num_samples = match read_audio(&entry.audio, sample_rate) {
        Ok(audio) => Some(audio.samples.len() as u64),
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

/// Checks every utterance under `data_dir` (in parallel; problems in id order).
pub fn check_corpus(data_dir: &Path, sample_rate: u32) -> Result<CheckReport, DataError> {
    let corpus = Corpus::discover(data_dir)?;
    let per_utterance: Vec<Vec<DataError>> = corpus
        .utterances
        .par_iter()
        .map(|u| check_utterance(u, sample_rate))
        .collect();
    Ok(CheckReport {
        utterances: corpus.utterances.len(),
        problems: per_utterance.into_iter().flatten().collect(),
    })
}
