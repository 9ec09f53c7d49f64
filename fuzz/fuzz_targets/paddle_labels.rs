//! PaddleOCR label lines never panic the parsers; a detection line that parses writes back
//! to a line that parses to the same sample (boxes, points and flags).
#![no_main]

use libfuzzer_sys::fuzz_target;
use whet_core::data::paddle::{det_line, parse_det_line, parse_rec_line, rec_line};

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    for line in text.lines() {
        if let Ok(sample) = parse_det_line(line) {
            let again = parse_det_line(&det_line(&sample)).expect("a written line parses");
            assert_eq!(again.boxes, sample.boxes);
        }
        if let Ok(sample) = parse_rec_line(line) {
            let again = parse_rec_line(&rec_line(&sample)).expect("a written line parses");
            assert_eq!(again.text, sample.text);
        }
    }
});
