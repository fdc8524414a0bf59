//! A compact dump of loaded splits (features rounded to bfloat16), so that training can run on a
//! machine that has neither the corpus nor the feature cache. Format: one JSON header line
//! (utterance ids, speakers, frame and phone counts, dimension), then the raw little-endian
//! arrays: features as bf16, targets as u32, phones as u8.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::TrainError;
use crate::features::{Dataset, Utterance};

#[derive(Serialize, Deserialize)]
struct Header {
    dim: usize,
    ids: Vec<String>,
    speakers: Vec<String>,
    frames: Vec<usize>,
    phones: Vec<usize>,
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::Load(format!("{}: {e}", path.display()))
}

/// Writes a dataset dump.
pub fn write_dump(path: &Path, ds: &Dataset) -> Result<(), TrainError> {
    let dim = ds.utterances.first().map_or(0, |u| u.dim);
    let header = Header {
        dim,
        ids: ds.utterances.iter().map(|u| u.id.clone()).collect(),
        speakers: ds.utterances.iter().map(|u| u.speaker.clone()).collect(),
        frames: ds.utterances.iter().map(|u| u.num_frames()).collect(),
        phones: ds.utterances.iter().map(|u| u.phones.len()).collect(),
    };
    let mut out = Vec::new();
    out.extend(serde_json::to_vec(&header).map_err(|e| io_err(path, e))?);
    out.push(b'\n');
    for u in &ds.utterances {
        for v in &u.feats {
            out.extend(((v.to_bits() + 0x8000) >> 16).to_le_bytes()[..2].iter());
        }
    }
    for u in &ds.utterances {
        for t in &u.targets {
            out.extend(t.to_le_bytes());
        }
    }
    for u in &ds.utterances {
        out.extend(&u.phones);
    }
    let mut f = std::fs::File::create(path).map_err(|e| io_err(path, e))?;
    f.write_all(&out).map_err(|e| io_err(path, e))?;
    Ok(())
}

/// Reads a dump written by [`write_dump`].
pub fn read_dump(path: &Path) -> Result<Dataset, TrainError> {
    let f = std::fs::File::open(path).map_err(|e| io_err(path, e))?;
    let mut r = BufReader::new(f);
    let mut line = String::new();
    r.read_line(&mut line).map_err(|e| io_err(path, e))?;
    let h: Header = serde_json::from_str(&line).map_err(|e| io_err(path, e))?;
    let mut rest = Vec::new();
    r.read_to_end(&mut rest).map_err(|e| io_err(path, e))?;
    let nf: usize = h.frames.iter().sum();
    let np: usize = h.phones.iter().sum();
    if rest.len() != nf * h.dim * 2 + nf * 4 + np {
        return Err(io_err(path, "truncated or malformed dump"));
    }
    let (feats, rest) = rest.split_at(nf * h.dim * 2);
    let (targets, phones) = rest.split_at(nf * 4);
    let (mut fo, mut to, mut po) = (0, 0, 0);
    let mut utterances = Vec::with_capacity(h.ids.len());
    for i in 0..h.ids.len() {
        let n = h.frames[i];
        let f: Vec<f32> = feats[fo * 2..(fo + n * h.dim) * 2]
            .chunks_exact(2)
            .map(|c| f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16))
            .collect();
        let t: Vec<u32> = targets[to * 4..(to + n) * 4]
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let p = phones[po..po + h.phones[i]].to_vec();
        fo += n * h.dim;
        to += n;
        po += h.phones[i];
        utterances.push(Utterance {
            id: h.ids[i].clone(),
            speaker: h.speakers[i].clone(),
            dim: h.dim,
            feats: f,
            targets: t,
            phones: p,
        });
    }
    Ok(Dataset { utterances })
}
