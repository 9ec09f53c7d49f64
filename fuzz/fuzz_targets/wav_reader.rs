//! WAV bytes never panic the reader nor make it allocate for samples the bytes do not
//! hold; audio it returns has at most one sample per byte read, the same bytes read twice
//! give the same audio, and an error names the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use whet_whisper_ft::Audio;

fuzz_target!(|bytes: &[u8]| {
    match Audio::from_wav_reader(bytes, "fuzz.wav") {
        Ok(audio) => {
            // A frame takes at least one byte.
            assert!(audio.samples.len() <= bytes.len());
            let again = Audio::from_wav_reader(bytes, "fuzz.wav").unwrap();
            assert_eq!(
                again.samples.iter().map(|s| s.to_bits()).collect::<Vec<_>>(),
                audio.samples.iter().map(|s| s.to_bits()).collect::<Vec<_>>()
            );
        }
        Err(e) => assert!(e.to_string().contains("fuzz.wav"), "{e}"),
    }
});
