//! Any bytes as an intent dataset CSV: the reader never panics, every row is either a
//! sample or a bad row with a line number inside the file, and samples written back read
//! back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use whet_intent_svc::Dataset;

fuzz_target!(|bytes: &[u8]| {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("in.csv");
    std::fs::write(&path, bytes).expect("write");
    let Ok((data, bad)) = Dataset::read_csv(&path) else {
        return;
    };
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
    assert!(bad.iter().all(|b| b.line >= 1 && b.line <= lines), "{bad:?}");
    let out = dir.path().join("out.csv");
    data.write_csv(&out).expect("write back");
    let (back, bad) = Dataset::read_csv(&out).expect("read back");
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(back.samples, data.samples);
});
