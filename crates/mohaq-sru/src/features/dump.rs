//! Writing one utterance's features to a file for inspection (`mohaq features`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use safetensors::{tensor::TensorView, Dtype};

use super::dataset::Utterance;
use crate::data::error::DataError;
use crate::data::phones::PHONES39;

/// Writes `utt` as safetensors (`*.safetensors`: tensors `feats` F32 [frames, dim] and `targets`
/// U32 [frames]) or else as text: a `#` header, then per frame the class, its phone, and the
/// feature values.
pub fn write_utterance(path: &Path, utt: &Utterance) -> Result<(), DataError> {
    let bytes = if path.extension().is_some_and(|e| e == "safetensors") {
        to_safetensors(utt).map_err(|reason| DataError::Cache {
            path: path.to_path_buf(),
            reason,
        })?
    } else {
        to_text(utt).into_bytes()
    };
    // Atomic: a killed or failed run never leaves a partial (or empty) file, at most a
    // temporary, which the next write clears.
    mohaq_fsio::write_atomic(path, &bytes).map_err(|e| DataError::io(path, e))?;
    mohaq_fsio::remove_stale_temps(path);
    Ok(())
}

fn to_safetensors(utt: &Utterance) -> Result<Vec<u8>, String> {
    let feats: Vec<u8> = utt.feats.iter().flat_map(|v| v.to_le_bytes()).collect();
    let targets: Vec<u8> = utt.targets.iter().flat_map(|v| v.to_le_bytes()).collect();
    let frames = utt.num_frames();
    let feats =
        TensorView::new(Dtype::F32, vec![frames, utt.dim], &feats).map_err(|e| e.to_string())?;
    let targets = TensorView::new(Dtype::U32, vec![frames], &targets).map_err(|e| e.to_string())?;
    let metadata = HashMap::from([
        ("id".to_string(), utt.id.clone()),
        ("speaker".to_string(), utt.speaker.clone()),
        ("phones".to_string(), phone_names(&utt.phones)),
    ]);
    safetensors::serialize([("feats", feats), ("targets", targets)], Some(metadata))
        .map_err(|e| e.to_string())
}

fn phone_names(phones: &[u8]) -> String {
    phones
        .iter()
        .map(|&p| PHONES39.get(p as usize).copied().unwrap_or("?"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn to_text(utt: &Utterance) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# utterance {} speaker {} frames {} dim {}",
        utt.id,
        utt.speaker,
        utt.num_frames(),
        utt.dim
    );
    let _ = writeln!(out, "# phones {}", phone_names(&utt.phones));
    let _ = writeln!(out, "# columns: class phone feat[0..{}]", utt.dim);
    for (row, &class) in utt.feats.chunks_exact(utt.dim.max(1)).zip(&utt.targets) {
        let phone = PHONES39.get(class as usize / 3).copied().unwrap_or("?");
        let _ = write!(out, "{class} {phone}");
        for v in row {
            let _ = write!(out, " {v:.6}");
        }
        out.push('\n');
    }
    out
}
