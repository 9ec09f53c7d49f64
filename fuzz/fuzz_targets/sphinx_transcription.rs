//! Sphinx transcription text never panics the parser; every record it returns has its
//! audio beside the file and words without the `<s>` markers, and an error names the
//! file and line.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use whet_whisper_ft::parse_sphinx_transcription;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let path = Path::new("data/transcription");
    match parse_sphinx_transcription(text, path) {
        Ok(records) => {
            assert!(records.len() <= text.lines().count());
            for r in records {
                assert!(r.audio.starts_with("data"));
                assert!(r.audio.extension().is_some_and(|e| e == "wav"));
                assert_eq!(r.language, "en");
            }
        }
        Err(e) => assert!(e.to_string().contains("data/transcription:"), "{e}"),
    }
});
