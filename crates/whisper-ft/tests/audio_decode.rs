//! MP3, FLAC and Ogg Vorbis through symphonia against libsndfile 1.2's decoding of the
//! same files, and resampling through rubato against soxr's and librosa's
//! (`scripts/golden/whisper-audio.sh`: 1.2 s of a LibriVox clip at 44.1 kHz).

#![allow(clippy::print_stderr)] // reports the measured figures the README quotes

use std::path::{Path, PathBuf};

use whet_whisper_ft::{Audio, Error, read_npz_array};

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/audio")
        .join(name)
}

fn array(name: &str) -> Vec<f32> {
    read_npz_array(golden("audio.npz"), name).unwrap().data
}

/// Signal-to-noise ratio of `got` against `want` over their common length, in dB.
fn snr(got: &[f32], want: &[f32]) -> f64 {
    let n = got.len().min(want.len());
    let (mut s, mut e) = (0f64, 0f64);
    for (g, w) in got[..n].iter().zip(&want[..n]) {
        s += f64::from(*w).powi(2);
        e += f64::from(g - w).powi(2);
    }
    10.0 * (s / e.max(1e-30)).log10()
}

#[test]
fn flac_is_lossless_and_mp3_and_ogg_decode_as_libsndfile_does() {
    let flac = Audio::read(golden("speech44k.flac")).unwrap();
    assert_eq!(flac.sample_rate, 44_100);
    let want: Vec<f32> = array("flac").iter().map(|v| v / 32768.0).collect();
    assert_eq!(
        flac.samples, want,
        "FLAC decodes to its 16-bit samples exactly"
    );
    for ext in ["mp3", "ogg"] {
        let a = Audio::read(golden(&format!("speech44k.{ext}"))).unwrap();
        let want = array(ext);
        assert_eq!(a.sample_rate, 44_100);
        let db = snr(&a.samples, &want);
        eprintln!(
            "{ext}: {} samples (libsndfile {}), {db:.1} dB from libsndfile's decoding",
            a.samples.len(),
            want.len()
        );
        assert!(a.samples.len().abs_diff(want.len()) <= 1152, "{ext} length");
        assert!(db > 30.0, "{ext}: {db} dB");
    }
}

#[test]
fn resampling_to_16k_is_close_to_soxr_and_librosa() {
    let flac = Audio::read(golden("speech44k.flac")).unwrap();
    let ours = flac.resampled(16_000).unwrap();
    let soxr = array("soxr_vhq_16k");
    assert_eq!(ours.samples.len(), soxr.len());
    let to_soxr = snr(&ours.samples, &soxr);
    let to_librosa = snr(&ours.samples, &array("librosa_16k"));
    let max = ours
        .samples
        .iter()
        .zip(&soxr)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    eprintln!(
        "44.1 -> 16 kHz: {to_soxr:.1} dB from soxr VHQ (largest difference {max:.2e}), \
         {to_librosa:.1} dB from librosa (soxr_hq)"
    );
    assert!(to_soxr > 40.0 && to_librosa > 40.0);

    // A stereo 48 kHz float WAV: channels averaged, then resampled.
    let stereo = Audio::read_16k(golden("stereo48k.wav")).unwrap();
    assert_eq!((stereo.sample_rate, stereo.samples.len()), (16_000, 4_800));
}

#[test]
fn unknown_and_broken_files_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.mp3");
    std::fs::write(&text, "not audio").unwrap();
    let err = Audio::read(&text).unwrap_err();
    assert!(err.to_string().contains("notes.mp3"), "{err}");
    let midi = dir.path().join("tune.mid");
    std::fs::write(&midi, b"MThd\0\0\0\x06\0\0\0\x01\0\x60").unwrap();
    let err = Audio::read(&midi).unwrap_err();
    assert!(
        matches!(err, Error::Unsupported { .. } | Error::Audio { .. })
            && err.to_string().contains("tune.mid"),
        "{err}"
    );
    // A FLAC cut in half.
    let bytes = std::fs::read(golden("speech44k.flac")).unwrap();
    let cut = dir.path().join("cut.flac");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    match Audio::read(&cut) {
        // symphonia stops at the cut: the audio before it.
        Ok(a) => assert!(!a.samples.is_empty() && a.samples.len() < 52_920),
        Err(e) => assert!(e.to_string().contains("cut.flac"), "{e}"),
    }
}

#[test]
fn resampling_any_length_keeps_the_duration() {
    // Lengths around whole numbers of the resampler's 1,024-frame chunks (a whole number
    // of chunks once failed), empty and tiny inputs.
    for len in [
        0,
        1,
        7,
        1023,
        1024,
        1025,
        2048,
        4096,
        22_050,
        44_100 + 1024 * 3,
    ] {
        let audio = Audio {
            samples: (0..len).map(|i| (i as f32 * 0.01).sin() * 0.5).collect(),
            sample_rate: 22_050,
        };
        let out = audio.resampled(16_000).unwrap();
        let want = (len as f64 * 16_000.0 / 22_050.0).round() as usize;
        assert_eq!(out.samples.len(), want, "{len} samples");
    }
}
