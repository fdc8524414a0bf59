//! Frame targets: which phone, and which third of it, each feature frame belongs to.
//!
//! Without Kaldi's tri-phone alignments (METHOD §7) the output units are 3 states per phone of the
//! 39-phone set: a frame's class is `phone * 3 + third`, where the phone is the segment holding the
//! frame centre and the third is the part of that segment (first/middle/last) the centre falls in.

use crate::data::labels::Segment;

use super::fbank::FrameGeometry;

/// Number of frame classes: 3 states × 39 phones.
pub const NUM_CLASSES: usize = 3 * crate::data::phones::NUM_PHONES;

/// The frame class of a phone state.
pub fn class_of(phone: u8, third: u8) -> u32 {
    u32::from(phone) * 3 + u32::from(third)
}

/// Phone id of a frame class.
pub fn phone_of_class(class: u32) -> u8 {
    (class / 3) as u8
}

/// Targets of the frames whose centre lies inside the labelled span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameTargets {
    /// Index of the first labelled frame; frames before it (and after the last) are dropped.
    pub first_frame: usize,
    pub targets: Vec<u32>,
}

/// Assigns a class to every frame whose centre lies in `[segments[0].start, segments.last().end)`.
///
/// `segments` must be contiguous and sorted (as [`crate::data::labels::read_labels`] returns them).
/// Labels usually stop a little before the audio ends (TIMIT by up to ~0.2 s, Kathleen by a frame
/// or two); frames there have no truth and are dropped rather than guessed.
pub fn frame_targets(
    segments: &[Segment],
    num_frames: usize,
    geometry: FrameGeometry,
) -> FrameTargets {
    let (Some(first), Some(last)) = (segments.first(), segments.last()) else {
        return FrameTargets {
            first_frame: 0,
            targets: Vec::new(),
        };
    };
    let mut targets = Vec::with_capacity(num_frames);
    let mut first_frame = None;
    let mut seg = 0;
    for frame in 0..num_frames {
        let c = geometry.centre(frame);
        if c < first.start {
            continue;
        }
        if c >= last.end {
            break;
        }
        while segments[seg].end <= c {
            seg += 1;
        }
        let s = &segments[seg];
        let third = ((c - s.start) * 3 / (s.end - s.start)).min(2) as u8;
        first_frame.get_or_insert(frame);
        targets.push(class_of(s.phone, third));
    }
    FrameTargets {
        first_frame: first_frame.unwrap_or(0),
        targets,
    }
}

/// The reference phone sequence of an utterance, equal neighbours merged.
pub fn phone_sequence(segments: &[Segment]) -> Vec<u8> {
    let mut phones: Vec<u8> = segments.iter().map(|s| s.phone).collect();
    phones.dedup();
    phones
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: FrameGeometry = FrameGeometry {
        length: 400,
        shift: 160,
    };

    #[test]
    fn thirds_follow_the_centre() {
        // Centres at 200, 360, 520, 680, 840, 1000, ...
        let segs = [
            Segment {
                start: 0,
                end: 480,
                phone: 30,
            },
            Segment {
                start: 480,
                end: 960,
                phone: 2,
            },
        ];
        let t = frame_targets(&segs, 10, G);
        assert_eq!(t.first_frame, 0);
        // 200 -> third 1 of [0,480); 360 -> 2; 520 -> (40*3/480)=0 of phone 2; 680 -> 1; 840 -> 2; 1000 dropped.
        assert_eq!(t.targets, vec![91, 92, 6, 7, 8]);
    }

    #[test]
    fn leading_unlabelled_frames_are_dropped() {
        let segs = [Segment {
            start: 300,
            end: 700,
            phone: 1,
        }];
        let t = frame_targets(&segs, 5, G);
        assert_eq!(t.first_frame, 1);
        assert_eq!(
            t.targets,
            vec![class_of(1, 0), class_of(1, 1), class_of(1, 2)]
        );
        assert_eq!(phone_of_class(class_of(38, 2)), 38);
        assert_eq!(NUM_CLASSES, 117);
    }
}
