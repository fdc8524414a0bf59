//! `mohaq data stats`: size of each split (utterances, speakers, hours, frames, phone counts).
//!
//! Reads audio headers and label files only, so it is quick even on the full corpus.

use std::collections::BTreeSet;
use std::path::Path;

use rayon::prelude::*;

use super::audio::probe_audio;
use super::corpus::{Corpus, UttEntry};
use super::error::DataError;
use super::labels::read_labels;
use super::phones::NUM_PHONES;
use super::splits::{select, Split};
use crate::features::fbank::FrameGeometry;
use crate::features::targets::{frame_targets, phone_sequence};

/// Statistics of one split.
#[derive(Clone, Debug, PartialEq)]
pub struct SplitStats {
    pub split: Split,
    pub utterances: usize,
    pub speakers: usize,
    /// Audio duration in seconds.
    pub seconds: f64,
    /// Labelled feature frames (the frames that get a target).
    pub frames: usize,
    /// Occurrences of each 39-set phone in the merged reference sequences.
    pub phone_counts: [usize; NUM_PHONES],
}

impl SplitStats {
    pub fn hours(&self) -> f64 {
        self.seconds / 3600.0
    }
}

struct UttStats {
    seconds: f64,
    frames: usize,
    phones: Vec<u8>,
}

fn utterance_stats(entry: &UttEntry, geometry: FrameGeometry) -> Result<UttStats, DataError> {
    let info = probe_audio(&entry.audio)?;
    let segments = read_labels(&entry.labels, entry.phone_set, Some(info.num_samples))?;
    let frames = frame_targets(
        &segments,
        geometry.num_frames(info.num_samples as usize),
        geometry,
    )
    .targets
    .len();
    Ok(UttStats {
        seconds: info.num_samples as f64 / f64::from(info.sample_rate.max(1)),
        frames,
        phones: phone_sequence(&segments),
    })
}

/// Statistics of the three splits of the corpus under `data_dir`.
pub fn split_stats(
    data_dir: &Path,
    geometry: FrameGeometry,
    include_kathleen: bool,
) -> Result<Vec<SplitStats>, DataError> {
    let corpus = Corpus::discover(data_dir)?;
    Split::ALL
        .iter()
        .map(|&split| {
            let entries = select(&corpus, split, include_kathleen);
            let per: Vec<Result<UttStats, DataError>> = entries
                .par_iter()
                .map(|e| utterance_stats(e, geometry))
                .collect();
            let mut stats = SplitStats {
                split,
                utterances: entries.len(),
                speakers: entries
                    .iter()
                    .map(|e| e.speaker.as_str())
                    .collect::<BTreeSet<_>>()
                    .len(),
                seconds: 0.0,
                frames: 0,
                phone_counts: [0; NUM_PHONES],
            };
            for u in per {
                let u = u?;
                stats.seconds += u.seconds;
                stats.frames += u.frames;
                for p in u.phones {
                    stats.phone_counts[p as usize] += 1;
                }
            }
            Ok(stats)
        })
        .collect()
}
