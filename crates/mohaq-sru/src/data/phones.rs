//! Phone sets and the mappings into the TIMIT 39-phone set.
//!
//! Every PER figure on TIMIT is reported on the 39-phone set of Lee & Hon (1989): the 61 hand-label
//! symbols are folded (closures and pauses to `sil`, allophones to their phoneme) and the glottal
//! stop `q` is deleted. The Kathleen corpus is labelled with the 39 CMU/ARPAbet phones plus `sil`;
//! it maps onto the same set with `ao → aa` and `zh → sh`. Folding everything into one id space lets
//! the two corpora train one model.

/// The TIMIT 39-phone set, in a fixed order: a phone id is an index into this array.
pub const PHONES39: [&str; 39] = [
    "aa", "ae", "ah", "aw", "ay", "b", "ch", "d", "dh", "dx", "eh", "er", "ey", "f", "g", "hh",
    "ih", "iy", "jh", "k", "l", "m", "n", "ng", "ow", "oy", "p", "r", "s", "sh", "sil", "t", "th",
    "uh", "uw", "v", "w", "y", "z",
];

/// Number of phones in the folded set.
pub const NUM_PHONES: usize = PHONES39.len();

/// Id of `sil` in [`PHONES39`].
pub const SIL: u8 = 30;

/// Which label alphabet a `.phn` file is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PhoneSet {
    /// The 61 TIMIT hand-label symbols (`h#`, closures, `ax-h`, …).
    Timit61,
    /// The 39 CMU/ARPAbet phones in lower case plus `sil` (Kathleen's forced alignments).
    Cmu,
}

/// What a label becomes in the 39-phone set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Folded {
    /// A phone of [`PHONES39`].
    Phone(u8),
    /// Deleted from the transcription (TIMIT `q`); its time span is given to the previous segment.
    Deleted,
}

/// Id of a phone of the 39-phone set by name.
pub fn phone39_id(name: &str) -> Option<u8> {
    PHONES39.iter().position(|p| *p == name).map(|i| i as u8)
}

/// Folds one TIMIT-61 label into the 39-phone set (Lee & Hon); `None` for a symbol outside TIMIT-61.
pub fn fold_timit61(label: &str) -> Option<Folded> {
    let target = match label {
        "q" => return Some(Folded::Deleted),
        "ao" => "aa",
        "ax" | "ax-h" => "ah",
        "axr" => "er",
        "hv" => "hh",
        "ix" => "ih",
        "el" => "l",
        "em" => "m",
        "en" | "nx" => "n",
        "eng" => "ng",
        "zh" => "sh",
        "ux" => "uw",
        "pcl" | "tcl" | "kcl" | "bcl" | "dcl" | "gcl" | "h#" | "pau" | "epi" => "sil",
        // `sil` is not a TIMIT-61 symbol: hand labels use h#/pau/epi.
        "sil" => return None,
        other => other,
    };
    phone39_id(target).map(Folded::Phone)
}

/// Maps one CMU/ARPAbet label (lower case, plus `sil`) into the 39-phone set.
pub fn map_cmu(label: &str) -> Option<Folded> {
    let target = match label {
        "ao" => "aa",
        "zh" => "sh",
        // TIMIT-39 has `dx`, the CMU set has no flap.
        "dx" => return None,
        other => other,
    };
    phone39_id(target).map(Folded::Phone)
}

impl PhoneSet {
    /// Maps a label of this set into the 39-phone set; `None` when the label is not in the set.
    pub fn fold(self, label: &str) -> Option<Folded> {
        match self {
            PhoneSet::Timit61 => fold_timit61(label),
            PhoneSet::Cmu => map_cmu(label),
        }
    }

    /// Short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            PhoneSet::Timit61 => "TIMIT-61",
            PhoneSet::Cmu => "CMU",
        }
    }
}

/// The 61 TIMIT hand-label symbols, for checks and documentation.
pub const TIMIT61: [&str; 61] = [
    "aa", "ae", "ah", "ao", "aw", "ax", "ax-h", "axr", "ay", "b", "bcl", "ch", "d", "dcl", "dh",
    "dx", "eh", "el", "em", "en", "eng", "epi", "er", "ey", "f", "g", "gcl", "h#", "hh", "hv",
    "ih", "ix", "iy", "jh", "k", "kcl", "l", "m", "n", "ng", "nx", "ow", "oy", "p", "pau", "pcl",
    "q", "r", "s", "sh", "t", "tcl", "th", "uh", "uw", "ux", "v", "w", "y", "z", "zh",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_timit61_symbol_folds_and_covers_the_39_set() {
        let mut seen = [false; NUM_PHONES];
        for label in TIMIT61 {
            match fold_timit61(label) {
                Some(Folded::Phone(id)) => seen[id as usize] = true,
                Some(Folded::Deleted) => assert_eq!(label, "q"),
                None => panic!("{label} does not fold"),
            }
        }
        assert!(
            seen.iter().all(|s| *s),
            "some 39-set phone is never reached"
        );
        assert_eq!(fold_timit61("sil"), None);
        assert_eq!(fold_timit61("xx"), None);
    }

    #[test]
    fn cmu_mapping_covers_all_but_dx() {
        assert_eq!(
            map_cmu("ao"),
            Some(Folded::Phone(phone39_id("aa").unwrap()))
        );
        assert_eq!(
            map_cmu("zh"),
            Some(Folded::Phone(phone39_id("sh").unwrap()))
        );
        assert_eq!(map_cmu("sil"), Some(Folded::Phone(SIL)));
        assert_eq!(map_cmu("dx"), None);
        assert_eq!(map_cmu("h#"), None);
        let reached = PHONES39.iter().filter(|p| map_cmu(p).is_some()).count();
        assert_eq!(reached, 38);
    }

    #[test]
    fn sil_constant_matches_table() {
        assert_eq!(PHONES39[SIL as usize], "sil");
        let mut sorted = PHONES39;
        sorted.sort();
        assert_eq!(sorted, PHONES39, "ids are alphabetical");
    }
}
