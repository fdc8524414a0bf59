//! Train/dev/test splits: the suggested split of the shipped corpora, and the standard LDC TIMIT
//! splits (462-speaker train, 50-speaker dev, 24-speaker core test) when a full corpus is present.
//!
//! `sa` sentences never go into dev or test: every speaker reads the same two, so they would leak
//! from train. The LDC recipes drop them from train too (si/sx only), which we follow there.

use super::corpus::{Corpus, CorpusKind, LdcSubset, SentenceType, UttEntry};

/// A data split.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Split {
    Train,
    Dev,
    Test,
}

impl Split {
    pub const ALL: [Split; 3] = [Split::Train, Split::Dev, Split::Test];

    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Dev => "dev",
            Split::Test => "test",
        }
    }
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Split {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "train" => Ok(Split::Train),
            "dev" => Ok(Split::Dev),
            "test" => Ok(Split::Test),
            other => Err(format!("unknown split {other:?} (train, dev or test)")),
        }
    }
}

/// The 50 speakers of the standard TIMIT development set (from the LDC test half).
pub const LDC_DEV_SPEAKERS: [&str; 50] = [
    "fadg0", "faks0", "fcal1", "fcmh0", "fdac1", "fdms0", "fdrw0", "fedw0", "fgjd0", "fjem0",
    "fjmg0", "fjsj0", "fkms0", "fmah0", "fmml0", "fnmr0", "frew0", "fsem0", "majc0", "mbdg0",
    "mbns0", "mbwm0", "mcsh0", "mdlf0", "mdls0", "mdvc0", "mers0", "mgjf0", "mglb0", "mgwt0",
    "mjar0", "mjfc0", "mjsw0", "mmdb1", "mmdm2", "mmjr0", "mmwh0", "mpdf0", "mrcs0", "mreb0",
    "mrjm4", "mrjr0", "mroa0", "mrtk0", "mrws1", "mtaa0", "mtdt0", "mteb0", "mthc0", "mwjg0",
];

/// The 24 speakers of the TIMIT core test set (two men and one woman per dialect region).
pub const LDC_CORE_TEST_SPEAKERS: [&str; 24] = [
    "mdab0", "mwbt0", "felc0", "mtas1", "mwew0", "fpas0", "mjmp0", "mlnt0", "fpkt0", "mlll0",
    "mtls0", "fjlm0", "mbpm0", "mklt0", "fnlp0", "mcmj0", "mjdh0", "fmgd0", "mgrt0", "mnjm0",
    "fdhc0", "mjln0", "mpam0", "fmld0",
];

/// Number of speakers in the LDC TIMIT training half.
pub const LDC_TRAIN_SPEAKER_COUNT: usize = 462;

/// The split an utterance belongs to, or `None` when it is in none (e.g. `sa` outside train).
pub fn split_of(entry: &UttEntry) -> Option<Split> {
    let not_sa = entry.sentence != Some(SentenceType::Sa);
    match entry.corpus {
        CorpusKind::Kathleen => Some(Split::Train),
        CorpusKind::TimitSample => match entry.dialect? {
            1..=4 => Some(Split::Train),
            5 | 6 if not_sa => Some(Split::Dev),
            7 | 8 if not_sa => Some(Split::Test),
            _ => None,
        },
        CorpusKind::TimitLdc => {
            if !not_sa {
                return None;
            }
            match entry.ldc_subset? {
                LdcSubset::Train => Some(Split::Train),
                LdcSubset::Test if LDC_DEV_SPEAKERS.contains(&entry.speaker.as_str()) => {
                    Some(Split::Dev)
                }
                LdcSubset::Test if LDC_CORE_TEST_SPEAKERS.contains(&entry.speaker.as_str()) => {
                    Some(Split::Test)
                }
                LdcSubset::Test => None,
            }
        }
    }
}

/// The utterances of a split, in id order. Kathleen joins train only when `include_kathleen`.
pub fn select(corpus: &Corpus, split: Split, include_kathleen: bool) -> Vec<&UttEntry> {
    corpus
        .utterances
        .iter()
        .filter(|u| include_kathleen || u.corpus != CorpusKind::Kathleen)
        .filter(|u| split_of(u) == Some(split))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speaker_lists_are_distinct_and_complete() {
        let mut all: Vec<&str> = LDC_DEV_SPEAKERS
            .iter()
            .chain(LDC_CORE_TEST_SPEAKERS.iter())
            .copied()
            .collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 74);
        // Core test: 3 per dialect region, 2 men and 1 woman each.
        let women = LDC_CORE_TEST_SPEAKERS
            .iter()
            .filter(|s| s.starts_with('f'))
            .count();
        assert_eq!(women, 8);
    }
}
