//! The JSONL reader never panics on arbitrary bytes, and under the skip policy every
//! line is either a record or a reported bad line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use whet_core::data::{MalformedPolicy, read_jsonl};

fuzz_target!(|bytes: &[u8]| {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("input.jsonl");
    std::fs::write(&path, bytes).expect("write input");
    let read = read_jsonl::<serde_json::Value>(&path, MalformedPolicy::Skip).expect("readable file");
    let non_blank = bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .filter(|(i, line)| {
            let line = if *i == 0 { line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line) } else { line };
            !std::str::from_utf8(line).is_ok_and(|t| t.trim().is_empty())
        })
        .count();
    assert_eq!(read.records.len() + read.skipped.len(), non_blank);
});
