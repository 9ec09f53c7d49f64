//! The log-mel front end against openai-whisper 20250625's `log_mel_spectrogram`
//! (`scripts/golden/whisper-mel.sh`): 5 generated clips read from 16-bit WAV, 80 and 128
//! bins, one clip shorter than a window padded by a second of zeros; within 1e-4.

#![allow(clippy::print_stderr)] // reports the measured figures the README quotes

use std::path::{Path, PathBuf};

use whet_whisper_ft::{Audio, MelFilters, log_mel_spectrogram, read_npz_array};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/mel")
}

#[test]
fn log_mel_matches_openai_whisper() {
    let npz = root().join("assets/whisper/mel_filters.npz");
    let mut worst = 0f32;
    let mut compared = 0;
    for n_mels in [80, 128] {
        let filters = MelFilters::from_npz(&npz, n_mels).expect("scripts/assets.sh fetches it");
        for clip in ["tones", "noise", "chirp", "click", "short"] {
            let audio = Audio::read_wav(golden().join(format!("{clip}.wav"))).unwrap();
            assert_eq!(audio.sample_rate, 16_000);
            let mut cases = vec![(format!("{clip}_{n_mels}"), 0)];
            if clip == "short" && n_mels == 80 {
                cases.push((format!("{clip}_80_pad16000"), 16_000));
            }
            for (name, padding) in cases {
                let want = read_npz_array(golden().join("mel.npz"), &name).unwrap();
                let got = log_mel_spectrogram(&audio.samples, &filters, padding).unwrap();
                assert_eq!(
                    [got.n_mels, got.n_frames],
                    [want.shape[0], want.shape[1]],
                    "{name}"
                );
                let diff = got
                    .data
                    .iter()
                    .zip(&want.data)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0f32, f32::max);
                assert!(diff <= 1e-4, "{name}: largest difference {diff}");
                worst = worst.max(diff);
                compared += got.data.len();
            }
        }
    }
    eprintln!("log-mel: {compared} values, largest difference from openai-whisper {worst:e}");
}

#[test]
fn filters_name_the_file_when_wrong() {
    let npz = root().join("assets/whisper/mel_filters.npz");
    let err = MelFilters::from_npz(&npz, 64).unwrap_err().to_string();
    assert!(
        err.contains("mel_filters.npz") && err.contains("mel_64"),
        "{err}"
    );
    let not_zip = golden().join("tones.wav");
    let err = MelFilters::from_npz(&not_zip, 80).unwrap_err().to_string();
    assert!(
        err.contains("tones.wav") && err.contains("not an .npz"),
        "{err}"
    );
}
