//! safetensors export round trip and malformed files.

use mohaq_quant::*;
use std::path::Path;

#[test]
fn save_and_load_every_width() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    let values: Vec<f32> = (0..7 * 13)
        .map(|i| ((i * 31 % 57) as f32 - 28.0) / 9.0)
        .collect();
    let mats: Vec<(String, PackedMatrix)> = BitWidth::ALL
        .iter()
        .map(|&b| {
            (
                format!("w{}", b.bits()),
                PackedMatrix::quantize_mmse(&values, 7, 13, b).unwrap(),
            )
        })
        .collect();
    save_packed(&path, mats.iter().map(|(n, m)| (n.as_str(), m))).unwrap();
    let back = load_packed(&path).unwrap();
    assert_eq!(back.len(), 4);
    for (name, m) in &mats {
        assert_eq!(&back[name], m, "{name}");
    }
    // The packed file is smaller at narrower widths.
    assert!(back["w2"].memory_bytes() < back["w4"].memory_bytes());
}

#[test]
fn malformed_files_name_file_and_key() {
    let m = PackedMatrix::quantize_mmse(&[0.5, -1.0, 0.25, 1.0], 2, 2, BitWidth::B4).unwrap();
    let p = Path::new("x.safetensors");
    let bytes = packed_to_safetensors_bytes([("fc", &m)], p).unwrap();
    // Change the stored bit width in the header to an impossible one.
    // (Same length, so the header's length prefix stays valid.)
    let mut bytes = bytes;
    let pat = b"\"fc.bits\":\"4\"";
    let at = bytes.windows(pat.len()).position(|w| w == pat).unwrap();
    bytes[at + pat.len() - 2] = b'3';
    let err = packed_from_safetensors_bytes(&bytes, p).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("x.safetensors") && msg.contains("fc") && msg.contains('3'),
        "{msg}"
    );
    assert!(matches!(
        packed_from_safetensors_bytes(b"garbage", p),
        Err(QuantError::Format { .. })
    ));
    assert!(matches!(
        load_packed(Path::new("/nonexistent/file.safetensors")),
        Err(QuantError::Io { .. })
    ));
}
