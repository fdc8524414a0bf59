//! Finding the utterances of a data directory, in any of the layouts the project supports.
//!
//! - NLTK TIMIT sample: `timit-sample/drN-<speaker>/<utt>.wav|.phn` (lower case);
//! - full LDC TIMIT: `TRAIN|TEST/DRn/<SPEAKER>/<UTT>.WAV|.PHN` (upper case in the LDC release,
//!   lower case in some copies: names are matched case-insensitively), either directly in the data
//!   directory or one or two levels below it (e.g. `timit/TIMIT/TRAIN`);
//! - Kathleen: `kathleen/<id>.flac|.phn` with CMU labels.
//!
//! When a full LDC TIMIT is present the NLTK sample is ignored: its speakers are part of the LDC
//! corpus, and reading both would duplicate utterances across splits.

use std::fs;
use std::path::{Path, PathBuf};

use super::error::DataError;
use super::phones::PhoneSet;

/// Which corpus an utterance comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CorpusKind {
    TimitSample,
    TimitLdc,
    Kathleen,
}

/// Half of the LDC TIMIT an utterance lies in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LdcSubset {
    Train,
    Test,
}

/// TIMIT sentence type: dialect (`sa`, read by every speaker), phonetically diverse (`si`),
/// phonetically compact (`sx`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SentenceType {
    Sa,
    Si,
    Sx,
}

/// One utterance on disk.
#[derive(Clone, Debug)]
pub struct UttEntry {
    /// Unique id: `drN-<speaker>/<utt>` for TIMIT (lower case), the file stem for Kathleen.
    pub id: String,
    pub speaker: String,
    pub corpus: CorpusKind,
    /// TIMIT dialect region 1..=8.
    pub dialect: Option<u8>,
    pub ldc_subset: Option<LdcSubset>,
    pub sentence: Option<SentenceType>,
    pub audio: PathBuf,
    pub labels: PathBuf,
    pub phone_set: PhoneSet,
}

/// All utterances found under a data directory, sorted by id.
#[derive(Clone, Debug)]
pub struct Corpus {
    pub root: PathBuf,
    pub utterances: Vec<UttEntry>,
    /// Label files with no audio beside them (NLTK sample and Kathleen layouts): not
    /// utterances, but `mohaq data check` reports them rather than skipping them silently.
    pub orphan_labels: Vec<PathBuf>,
}

impl Corpus {
    /// Scans `data_dir`. Fails when no corpus is there at all.
    pub fn discover(data_dir: &Path) -> Result<Corpus, DataError> {
        if !data_dir.is_dir() {
            return Err(DataError::io(
                data_dir,
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "data directory not found (give --data DIR or set MOHAQ_DATA)",
                ),
            ));
        }
        let mut utterances = Vec::new();
        let mut orphan_labels = Vec::new();
        match find_ldc_root(data_dir)? {
            Some(ldc) => scan_ldc(&ldc, &mut utterances)?,
            None => {
                let sample = data_dir.join("timit-sample");
                if sample.is_dir() {
                    scan_timit_sample(&sample, &mut utterances)?;
                    for speaker_dir in list_dir(&sample)?.into_iter().filter(|p| p.is_dir()) {
                        orphan_labels.extend(orphans(&speaker_dir, &["wav"])?);
                    }
                }
            }
        }
        let kathleen = data_dir.join("kathleen");
        if kathleen.is_dir() {
            scan_kathleen(&kathleen, &mut utterances)?;
            orphan_labels.extend(orphans(&kathleen, &["flac"])?);
        }
        if utterances.is_empty() {
            return Err(DataError::NoCorpus {
                path: data_dir.to_path_buf(),
            });
        }
        utterances.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Corpus {
            root: data_dir.to_path_buf(),
            utterances,
            orphan_labels,
        })
    }

    /// The utterance with this id.
    pub fn find(&self, id: &str) -> Option<&UttEntry> {
        self.utterances
            .binary_search_by(|u| u.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.utterances[i])
    }

    /// True when the TIMIT part is a full LDC corpus (standard splits apply).
    pub fn has_ldc(&self) -> bool {
        self.utterances
            .iter()
            .any(|u| u.corpus == CorpusKind::TimitLdc)
    }
}

/// Sorted entries of a directory.
fn list_dir(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| DataError::io(dir, e))? {
        out.push(entry.map_err(|e| DataError::io(dir, e))?.path());
    }
    out.sort();
    Ok(out)
}

fn file_name_lower(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// `stem` and lower-case extension of a file name.
fn split_name(path: &Path) -> Option<(String, String)> {
    let stem = path.file_stem()?.to_string_lossy().to_string();
    let ext = path.extension()?.to_string_lossy().to_ascii_lowercase();
    Some((stem, ext))
}

/// `.phn` files in `dir` with no audio file of the same stem and one of `audio_exts`.
fn orphans(dir: &Path, audio_exts: &[&str]) -> Result<Vec<PathBuf>, DataError> {
    let files = list_dir(dir)?;
    let audio_stems: Vec<String> = files
        .iter()
        .filter_map(|f| split_name(f))
        .filter(|(_, ext)| audio_exts.contains(&ext.as_str()))
        .map(|(stem, _)| stem)
        .collect();
    Ok(files
        .into_iter()
        .filter(|f| {
            split_name(f).is_some_and(|(stem, ext)| ext == "phn" && !audio_stems.contains(&stem))
        })
        .collect())
}

/// The label file next to `audio`: same stem, `.phn` in the case the directory uses.
fn label_path(audio: &Path) -> PathBuf {
    let upper = audio.with_extension("PHN");
    let lower = audio.with_extension("phn");
    if lower.exists() || !upper.exists() {
        lower
    } else {
        upper
    }
}

fn sentence_type(stem: &str) -> Option<SentenceType> {
    let lower = stem.to_ascii_lowercase();
    if lower.starts_with("sa") {
        Some(SentenceType::Sa)
    } else if lower.starts_with("si") {
        Some(SentenceType::Si)
    } else if lower.starts_with("sx") {
        Some(SentenceType::Sx)
    } else {
        None
    }
}

fn parse_dialect(name: &str) -> Option<u8> {
    let digit = name.strip_prefix("dr")?;
    let d: u8 = digit.get(..1)?.parse().ok()?;
    (1..=8).contains(&d).then_some(d)
}

fn scan_timit_sample(dir: &Path, out: &mut Vec<UttEntry>) -> Result<(), DataError> {
    for speaker_dir in list_dir(dir)?.into_iter().filter(|p| p.is_dir()) {
        let name = file_name_lower(&speaker_dir);
        let Some((dr, speaker)) = name.split_once('-') else {
            continue;
        };
        let Some(dialect) = parse_dialect(dr) else {
            continue;
        };
        for file in list_dir(&speaker_dir)? {
            let Some((stem, ext)) = split_name(&file) else {
                continue;
            };
            if ext != "wav" {
                continue;
            }
            out.push(UttEntry {
                id: format!("{name}/{}", stem.to_ascii_lowercase()),
                speaker: speaker.to_string(),
                corpus: CorpusKind::TimitSample,
                dialect: Some(dialect),
                ldc_subset: None,
                sentence: sentence_type(&stem),
                labels: label_path(&file),
                audio: file,
                phone_set: PhoneSet::Timit61,
            });
        }
    }
    Ok(())
}

/// A directory holding both `train` and `test` (any case), if any, at depth 0..=2 of `data_dir`.
fn find_ldc_root(data_dir: &Path) -> Result<Option<PathBuf>, DataError> {
    let is_root = |dir: &Path| -> Result<bool, DataError> {
        let names: Vec<String> = list_dir(dir)?
            .iter()
            .filter(|p| p.is_dir())
            .map(|p| file_name_lower(p))
            .collect();
        Ok(names.iter().any(|n| n == "train") && names.iter().any(|n| n == "test"))
    };
    let mut frontier = vec![data_dir.to_path_buf()];
    for _depth in 0..3 {
        let mut next = Vec::new();
        for dir in frontier {
            if is_root(&dir)? {
                return Ok(Some(dir));
            }
            for child in list_dir(&dir)?.into_iter().filter(|p| p.is_dir()) {
                // The shipped corpora are not LDC roots; don't descend into thousands of files.
                let name = file_name_lower(&child);
                if name != "kathleen" && name != "timit-sample" {
                    next.push(child);
                }
            }
        }
        frontier = next;
    }
    Ok(None)
}

fn scan_ldc(root: &Path, out: &mut Vec<UttEntry>) -> Result<(), DataError> {
    for subset_dir in list_dir(root)?.into_iter().filter(|p| p.is_dir()) {
        let subset = match file_name_lower(&subset_dir).as_str() {
            "train" => LdcSubset::Train,
            "test" => LdcSubset::Test,
            _ => continue,
        };
        for dr_dir in list_dir(&subset_dir)?.into_iter().filter(|p| p.is_dir()) {
            let dr = file_name_lower(&dr_dir);
            let Some(dialect) = parse_dialect(&dr) else {
                continue;
            };
            for speaker_dir in list_dir(&dr_dir)?.into_iter().filter(|p| p.is_dir()) {
                let speaker = file_name_lower(&speaker_dir);
                for file in list_dir(&speaker_dir)? {
                    let Some((stem, ext)) = split_name(&file) else {
                        continue;
                    };
                    if ext != "wav" {
                        continue;
                    }
                    out.push(UttEntry {
                        id: format!("{dr}-{speaker}/{}", stem.to_ascii_lowercase()),
                        speaker: speaker.clone(),
                        corpus: CorpusKind::TimitLdc,
                        dialect: Some(dialect),
                        ldc_subset: Some(subset),
                        sentence: sentence_type(&stem),
                        labels: label_path(&file),
                        audio: file,
                        phone_set: PhoneSet::Timit61,
                    });
                }
            }
        }
    }
    Ok(())
}

fn scan_kathleen(dir: &Path, out: &mut Vec<UttEntry>) -> Result<(), DataError> {
    for file in list_dir(dir)? {
        let Some((stem, ext)) = split_name(&file) else {
            continue;
        };
        if ext != "flac" {
            continue;
        }
        out.push(UttEntry {
            id: stem,
            speaker: "kathleen".to_string(),
            corpus: CorpusKind::Kathleen,
            dialect: None,
            ldc_subset: None,
            sentence: None,
            labels: label_path(&file),
            audio: file,
            phone_set: PhoneSet::Cmu,
        });
    }
    Ok(())
}
