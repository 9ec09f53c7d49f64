//! Helpers shared by the golden-fixture tests.
#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::Value;

/// The records of `tests/golden/<name>.jsonl`.
pub fn golden(name: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.jsonl"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (scripts/golden/eval-metrics.sh makes it)",
            path.display()
        )
    });
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), i + 1))
        })
        .collect()
}

/// Asserts `|got - want| <= 1e-9` (values), naming the case.
#[track_caller]
pub fn close(got: f64, want: &Value, what: &str) {
    let want = want
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: golden value {want} is not a number"));
    assert!(
        (got - want).abs() <= 1e-9,
        "{what}: got {got}, reference {want} (difference {})",
        (got - want).abs()
    );
}

/// The golden value as usize.
#[track_caller]
pub fn count(v: &Value) -> usize {
    v.as_u64()
        .unwrap_or_else(|| panic!("golden value {v} is not a count")) as usize
}

/// A JSON array of strings.
pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string").to_owned())
        .collect()
}
