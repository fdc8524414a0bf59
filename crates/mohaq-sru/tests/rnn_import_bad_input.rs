//! `import_state_dict` on broken state_dicts: a missing tensor, a wrong shape, an unknown name,
//! NaN weights and a GRU file given as an LSTM each give an error that names the tensor.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use mohaq_sru::model::params::{read_tensors, write_tensors};
use mohaq_sru::rnn::import::import_state_dict;
use mohaq_sru::rnn::{Architecture, RnnConfig};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/lstm_gru")
}

fn config(case: &str) -> RnnConfig {
    match Architecture::load(&dir().join(format!("{case}.toml"))).unwrap() {
        Architecture::Rnn(c) => c,
        Architecture::Sru(_) => panic!("{case} is an LSTM/GRU"),
    }
}

/// The tensors of a fixture's state_dict, changed by `edit`, written to a temporary file; the
/// import error's text.
fn import_error(
    case: &str,
    arch: &str,
    edit: impl FnOnce(&mut Vec<(String, Vec<usize>, Vec<f32>)>),
) -> String {
    let (map, _) = read_tensors(&dir().join(format!("{case}.safetensors"))).unwrap();
    let mut tensors: Vec<(String, Vec<usize>, Vec<f32>)> =
        map.into_iter().map(|(n, (s, v))| (n, s, v)).collect();
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    edit(&mut tensors);
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("state.safetensors");
    let views: Vec<(String, Vec<usize>, &[f32])> = tensors
        .iter()
        .map(|(n, s, v)| (n.clone(), s.clone(), &v[..]))
        .collect();
    write_tensors(&path, &views, HashMap::new()).unwrap();
    let err = import_state_dict(&path, &config(arch))
        .unwrap_err()
        .to_string();
    assert!(err.contains("state.safetensors"), "names the file: {err}");
    err
}

#[test]
fn an_intact_state_dict_imports() {
    let p = import_state_dict(&dir().join("lstm_bi_2.safetensors"), &config("lstm_bi_2")).unwrap();
    assert_eq!(p.layers.len(), 2);
    assert_eq!(p.layers[1].len(), 2);
}

#[test]
fn a_missing_tensor_is_named() {
    let err = import_error("lstm_bi_2", "lstm_bi_2", |t| {
        t.retain(|(n, _, _)| n != "rnn.weight_hh_l1_reverse")
    });
    assert!(
        err.contains("missing tensor `rnn.weight_hh_l1_reverse` [16, 4]"),
        "{err}"
    );
}

#[test]
fn a_wrong_shape_is_named_with_both_shapes() {
    let err = import_error("lstm_bi_2", "lstm_bi_2", |t| {
        let fc = t.iter_mut().find(|(n, _, _)| n == "fc.weight").unwrap();
        fc.1 = vec![4, 12];
    });
    assert!(
        err.contains("tensor `fc.weight` has shape [4, 12], the architecture needs [6, 8]"),
        "{err}"
    );
}

#[test]
fn an_unknown_name_is_named() {
    let err = import_error("lstm_uni_1", "lstm_uni_1", |t| {
        t.push(("rnn.weight_ih_l1".into(), vec![16, 4], vec![0.0; 64]));
    });
    assert!(
        err.contains("unexpected tensor `rnn.weight_ih_l1` [16, 4]"),
        "{err}"
    );
}

#[test]
fn nan_weights_are_named_with_their_index() {
    let err = import_error("gru_bi_1", "gru_bi_1", |t| {
        let w = t
            .iter_mut()
            .find(|(n, _, _)| n == "rnn.weight_ih_l0_reverse")
            .unwrap();
        w.2[7] = f32::NAN;
        w.2[9] = f32::INFINITY;
    });
    assert!(
        err.contains("tensor `rnn.weight_ih_l0_reverse` holds 2 non-finite value(s)")
            && err.contains("index 7"),
        "{err}"
    );
}

#[test]
fn a_gru_file_given_as_lstm_is_called_a_gate_count_mismatch() {
    // gru_bi_1 has LSTM twin sizes except the cell: give its file to an LSTM architecture.
    let (map, _) = read_tensors(&dir().join("gru_bi_1.safetensors")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("gru.safetensors");
    let views: Vec<(String, Vec<usize>, &[f32])> = map
        .iter()
        .map(|(n, (s, v))| (n.clone(), s.clone(), &v[..]))
        .collect();
    write_tensors(&path, &views, HashMap::new()).unwrap();
    let mut lstm = config("gru_bi_1");
    lstm.kind = mohaq_sru::rnn::RnnKind::Lstm;
    let err = import_state_dict(&path, &lstm).unwrap_err().to_string();
    assert!(
        err.contains(
            "tensor `rnn.weight_ih_l0` has shape [12, 5]: 3 gate blocks of 4 rows, a GRU's"
        ),
        "{err}"
    );
    assert!(err.contains("is this a GRU state_dict?"), "{err}");
}

#[test]
fn a_different_prefix_gets_a_hint() {
    let err = import_error("lstm_uni_1", "lstm_uni_1", |t| {
        for (n, _, _) in t.iter_mut() {
            if let Some(rest) = n.strip_prefix("rnn.") {
                *n = format!("encoder.lstm.{rest}");
            }
        }
    });
    assert!(err.contains("missing tensor `rnn.weight_ih_l0`"), "{err}");
    assert!(err.contains("set `rnn = \"encoder.lstm\"`"), "{err}");
}
