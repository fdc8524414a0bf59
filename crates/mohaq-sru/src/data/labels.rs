//! Phone label files (`.phn`): `start_sample end_sample label` per line, contiguous segments.
//!
//! Reading is split in two: [`label_problems`] collects *every* problem of a file (for
//! `mohaq data check`), [`read_labels`] stops at the first one and returns folded segments.

use std::path::Path;

use super::error::DataError;
use super::phones::{Folded, PhoneSet};

/// One line of a label file, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawSegment {
    pub start: u64,
    pub end: u64,
    pub label: String,
    /// 1-based line number, for error messages.
    pub line: usize,
}

/// A segment in the 39-phone set: deleted labels absorbed, equal neighbours merged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub start: u64,
    pub end: u64,
    /// Index into [`super::phones::PHONES39`].
    pub phone: u8,
}

/// Parses the text of a label file; returns the well-formed lines and one error per bad line.
pub fn parse_labels(path: &Path, text: &str) -> (Vec<RawSegment>, Vec<DataError>) {
    let mut segments = Vec::new();
    let mut problems = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        let syntax = |reason: String| DataError::LabelSyntax {
            path: path.to_path_buf(),
            line: line_no,
            reason,
        };
        if fields.len() != 3 {
            problems.push(syntax(format!(
                "expected `start end label`, found {} fields",
                fields.len()
            )));
            continue;
        }
        let (Ok(start), Ok(end)) = (fields[0].parse::<u64>(), fields[1].parse::<u64>()) else {
            problems.push(syntax(format!(
                "sample indices {:?} {:?} are not non-negative integers",
                fields[0], fields[1]
            )));
            continue;
        };
        if end <= start {
            problems.push(syntax(format!(
                "segment end {end} is not after its start {start}"
            )));
            continue;
        }
        segments.push(RawSegment {
            start,
            end,
            label: fields[2].to_string(),
            line: line_no,
        });
    }
    (segments, problems)
}

/// Checks parsed segments: labels in the phone set, no gaps or overlaps, nothing past the audio.
pub fn check_segments(
    path: &Path,
    segments: &[RawSegment],
    set: PhoneSet,
    num_samples: Option<u64>,
) -> Vec<DataError> {
    let mut problems = Vec::new();
    let mut previous_end: Option<u64> = None;
    for seg in segments {
        if set.fold(&seg.label).is_none() {
            problems.push(DataError::UnknownPhone {
                path: path.to_path_buf(),
                line: seg.line,
                label: seg.label.clone(),
                set: set.name(),
            });
        }
        if let Some(previous_end) = previous_end {
            if seg.start > previous_end {
                problems.push(DataError::LabelGap {
                    path: path.to_path_buf(),
                    line: seg.line,
                    previous_end,
                    start: seg.start,
                });
            } else if seg.start < previous_end {
                problems.push(DataError::LabelOverlap {
                    path: path.to_path_buf(),
                    line: seg.line,
                    previous_end,
                    start: seg.start,
                });
            }
        }
        if let Some(num_samples) = num_samples {
            if seg.end > num_samples {
                problems.push(DataError::LabelPastEnd {
                    path: path.to_path_buf(),
                    line: seg.line,
                    end: seg.end,
                    num_samples,
                });
            }
        }
        previous_end = Some(seg.end);
    }
    problems
}

/// Every problem of one label file (I/O, empty, syntax, phones, gaps, overlaps, length).
pub fn label_problems(path: &Path, set: PhoneSet, num_samples: Option<u64>) -> Vec<DataError> {
    match std::fs::read_to_string(path) {
        Err(e) => vec![DataError::io(path, e)],
        Ok(text) if text.trim().is_empty() => vec![DataError::Empty {
            path: path.to_path_buf(),
        }],
        Ok(text) => {
            let (segments, mut problems) = parse_labels(path, &text);
            problems.extend(check_segments(path, &segments, set, num_samples));
            problems
        }
    }
}

/// Reads, checks and folds a label file; the first problem found is the error.
pub fn read_labels(
    path: &Path,
    set: PhoneSet,
    num_samples: Option<u64>,
) -> Result<Vec<Segment>, DataError> {
    let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
    labels_from_text(path, &text, set, num_samples)
}

/// As [`read_labels`], for text already in memory.
pub fn labels_from_text(
    path: &Path,
    text: &str,
    set: PhoneSet,
    num_samples: Option<u64>,
) -> Result<Vec<Segment>, DataError> {
    if text.trim().is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    let (segments, problems) = parse_labels(path, text);
    if let Some(first) = problems.into_iter().next() {
        return Err(first);
    }
    if let Some(first) = check_segments(path, &segments, set, num_samples)
        .into_iter()
        .next()
    {
        return Err(first);
    }
    let folded = fold_segments(&segments, set);
    if folded.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(folded)
}

/// Folds checked segments into the 39-phone set.
///
/// A deleted label (TIMIT `q`) gives its time to the segment before it (or after it, when it comes
/// first), so the segments stay contiguous. Neighbours that fold to the same phone (`pau h#`,
/// `ix ih`) are merged: the decoder cannot tell them apart, so the frame targets should not either.
/// Labels outside the set are skipped (callers check first).
pub fn fold_segments(segments: &[RawSegment], set: PhoneSet) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::with_capacity(segments.len());
    let mut pending_start: Option<u64> = None;
    for seg in segments {
        match set.fold(&seg.label) {
            Some(Folded::Phone(phone)) => {
                let start = pending_start.take().unwrap_or(seg.start);
                match out.last_mut() {
                    Some(last) if last.phone == phone => last.end = seg.end,
                    _ => out.push(Segment {
                        start,
                        end: seg.end,
                        phone,
                    }),
                }
            }
            Some(Folded::Deleted) => match out.last_mut() {
                Some(last) => last.end = seg.end,
                None => pending_start = Some(pending_start.unwrap_or(seg.start)),
            },
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::phones::{phone39_id, SIL};

    fn p(name: &str) -> u8 {
        phone39_id(name).unwrap()
    }

    #[test]
    fn folding_merges_and_absorbs_q() {
        let text = "0 100 h#\n100 200 q\n200 300 ix\n300 400 ih\n400 500 pau\n500 600 h#\n";
        let segs =
            labels_from_text(Path::new("x.phn"), text, PhoneSet::Timit61, Some(600)).unwrap();
        assert_eq!(
            segs,
            vec![
                Segment {
                    start: 0,
                    end: 200,
                    phone: SIL
                },
                Segment {
                    start: 200,
                    end: 400,
                    phone: p("ih")
                },
                Segment {
                    start: 400,
                    end: 600,
                    phone: SIL
                },
            ]
        );
        let first_q = "0 50 q\n50 100 s\n";
        let segs = labels_from_text(Path::new("x.phn"), first_q, PhoneSet::Timit61, None).unwrap();
        assert_eq!(
            segs,
            vec![Segment {
                start: 0,
                end: 100,
                phone: p("s")
            }]
        );
    }

    #[test]
    fn every_problem_names_file_and_line() {
        let text = "0 100 h#\n120 200 s\n190 300 zz\n300 250 t\nfoo\n300 900 t\n";
        let (segs, syntax) = parse_labels(Path::new("d/u.phn"), text);
        let problems: Vec<String> = syntax
            .into_iter()
            .chain(check_segments(
                Path::new("d/u.phn"),
                &segs,
                PhoneSet::Timit61,
                Some(800),
            ))
            .map(|e| e.to_string())
            .collect();
        let expect = [
            "d/u.phn:4:",
            "d/u.phn:5:",
            "d/u.phn:2: gap",
            "d/u.phn:3: unknown",
            "d/u.phn:3: overlapping",
            "d/u.phn:6: label ends",
        ];
        for e in expect {
            assert!(
                problems.iter().any(|p| p.starts_with(e)),
                "missing {e} in {problems:#?}"
            );
        }
        assert_eq!(problems.len(), expect.len(), "{problems:#?}");
    }

    #[test]
    fn cmu_labels_map() {
        let segs = labels_from_text(
            Path::new("k.phn"),
            "0 10 ao\n10 20 zh\n20 30 sil\n",
            PhoneSet::Cmu,
            Some(30),
        )
        .unwrap();
        assert_eq!(
            segs.iter().map(|s| s.phone).collect::<Vec<_>>(),
            vec![p("aa"), p("sh"), SIL]
        );
        let err =
            labels_from_text(Path::new("k.phn"), "0 10 h#\n", PhoneSet::Cmu, Some(30)).unwrap_err();
        assert!(matches!(err, DataError::UnknownPhone { line: 1, .. }));
    }

    #[test]
    fn empty_file_is_an_error() {
        assert!(matches!(
            labels_from_text(Path::new("e.phn"), "\n \n", PhoneSet::Cmu, None),
            Err(DataError::Empty { .. })
        ));
    }
}
