//! Reading TOML files into typed structs with errors that name the file. Unknown and missing keys
//! are caught by serde (`deny_unknown_fields`, non-`Option` fields); the TOML parser's message
//! names the key and the line, and we prefix the file.

use crate::error::HwError;
use serde::de::DeserializeOwned;
use std::path::Path;

pub(crate) fn read(path: &Path) -> Result<String, HwError> {
    std::fs::read_to_string(path).map_err(|source| HwError::Io {
        file: path.to_path_buf(),
        source,
    })
}

pub(crate) fn deserialize<T: DeserializeOwned>(text: &str, file: &str) -> Result<T, HwError> {
    toml::from_str(text).map_err(|err| HwError::Toml {
        file: file.to_string(),
        message: err.to_string().trim_end().to_string(),
    })
}
