//! f16 storage of a bundle: what is written is read back widened to f32, within f16's rounding,
//! with the metadata intact.

use std::collections::HashMap;

use mohaq_sru::model::params::{read_tensors, write_tensors_f16};

#[test]
fn f16_tensors_read_back_within_half_precision_rounding() {
    let dir = std::env::temp_dir().join(format!("mohaq-half-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("half.safetensors");
    let values: Vec<f32> = (0..64).map(|i| (i as f32 - 31.5) * 0.0173).collect();
    let meta = HashMap::from([("k".to_string(), "v".to_string())]);
    write_tensors_f16(&path, &[("w".into(), vec![8, 8], &values)], meta).unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() < 64 * 4);
    let (map, meta) = read_tensors(&path).unwrap();
    assert_eq!(meta.get("k").map(String::as_str), Some("v"));
    let (shape, read) = &map["w"];
    assert_eq!(shape, &vec![8, 8]);
    for (a, b) in values.iter().zip(read) {
        // f16 has an 11-bit significand: relative error ≤ 2^-11.
        assert!((a - b).abs() <= a.abs() * 4.9e-4 + 1e-7, "{a} vs {b}");
        assert_ne!(*b, 0.0);
    }
    std::fs::remove_dir_all(&dir).ok();
}
