//! SROIE annotation lines never panic the parser; a line that parses has four finite
//! points and keeps everything after the eighth comma (line ends aside) as its text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use whet_core::data::sroie::parse_box_line;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    for line in text.lines() {
        if let Ok(region) = parse_box_line(line) {
            assert_eq!(region.polygon.points.len(), 4);
            assert!(region.polygon.points.iter().flatten().all(|v| v.is_finite()));
            // Line ends (a Windows `\r`, repeated) are not part of the text.
            let line = line.trim_end_matches(['\r', '\n']);
            assert_eq!(Some(region.text.as_str()), line.splitn(9, ',').nth(8));
        }
    }
});
