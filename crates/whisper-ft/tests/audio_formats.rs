//! WAV in every sample format `hound` writes, mixed to mono; bad files are errors that
//! name the file; an empty file is empty audio.

use std::path::Path;

use hound::{SampleFormat, WavSpec, WavWriter};
use whet_whisper_ft::{Audio, Error};

fn write(path: &Path, channels: u16, bits: u16, format: SampleFormat, frames: &[Vec<f64>]) {
    let spec = WavSpec {
        channels,
        sample_rate: 16_000,
        bits_per_sample: bits,
        sample_format: format,
    };
    let mut w = WavWriter::create(path, spec).unwrap();
    for frame in frames {
        for &v in frame {
            match format {
                SampleFormat::Float => w.write_sample(v as f32).unwrap(),
                SampleFormat::Int => {
                    let full = f64::from(1u32 << (bits - 1));
                    let s = (v * full).round().clamp(-full, full - 1.0) as i32;
                    match bits {
                        8 => w.write_sample(s as i8).unwrap(),
                        16 => w.write_sample(s as i16).unwrap(),
                        _ => w.write_sample(s).unwrap(),
                    }
                }
            }
        }
    }
    w.finalize().unwrap();
}

#[test]
fn every_sample_format_reads_the_same_mono_signal() {
    let dir = tempfile::tempdir().unwrap();
    // Stereo frames whose channel means are 0.5, -0.25, 0 and 0.75.
    let frames = vec![
        vec![0.75, 0.25],
        vec![-0.5, 0.0],
        vec![0.5, -0.5],
        vec![0.75, 0.75],
    ];
    let want = [0.5f32, -0.25, 0.0, 0.75];
    for (bits, format) in [
        (8, SampleFormat::Int),
        (16, SampleFormat::Int),
        (24, SampleFormat::Int),
        (32, SampleFormat::Int),
        (32, SampleFormat::Float),
    ] {
        let path = dir.path().join(format!("{bits}-{format:?}.wav"));
        write(&path, 2, bits, format, &frames);
        let audio = Audio::read_wav(&path).unwrap();
        assert_eq!(audio.sample_rate, 16_000);
        let tolerance = 1.0 / f32::from(1u16 << (bits.min(16) - 1));
        assert_eq!(audio.samples.len(), 4, "{bits}-bit {format:?}");
        for (got, want) in audio.samples.iter().zip(want) {
            assert!(
                (got - want).abs() <= tolerance,
                "{bits}-bit {format:?}: {got} for {want}"
            );
        }
    }
    // Six channels, mixed by their mean.
    let path = dir.path().join("six.wav");
    write(
        &path,
        6,
        16,
        SampleFormat::Int,
        &[vec![0.5, 0.5, 0.5, 0.0, 0.0, 0.0]],
    );
    assert_eq!(Audio::read_wav(&path).unwrap().samples, vec![0.25]);
}

#[test]
fn an_empty_file_is_empty_audio() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.wav");
    write(&path, 1, 16, SampleFormat::Int, &[]);
    let audio = Audio::read_wav(&path).unwrap();
    assert!(audio.samples.is_empty());
    assert_eq!(audio.duration(), 0.0);
}

#[test]
fn bad_files_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.wav");
    let err = Audio::read_wav(&missing).unwrap_err();
    assert!(matches!(err, Error::Audio { .. }) && err.to_string().contains("missing.wav"));

    let text = dir.path().join("notes.wav");
    std::fs::write(&text, "not audio at all").unwrap();
    let err = Audio::read_wav(&text).unwrap_err().to_string();
    assert!(err.contains("notes.wav"), "{err}");

    // A file cut in the middle of a sample.
    let good = dir.path().join("good.wav");
    write(
        &good,
        1,
        16,
        SampleFormat::Int,
        &[vec![0.5], vec![0.25], vec![0.0]],
    );
    let bytes = std::fs::read(&good).unwrap();
    let cut = dir.path().join("cut.wav");
    std::fs::write(&cut, &bytes[..bytes.len() - 1]).unwrap();
    let err = Audio::read_wav(&cut).unwrap_err().to_string();
    assert!(err.contains("cut.wav"), "{err}");

    // A-law (WAVE format 6): unsupported, said so.
    let mut alaw = bytes.clone();
    alaw[20] = 6;
    let path = dir.path().join("alaw.wav");
    std::fs::write(&path, &alaw).unwrap();
    let err = Audio::read_wav(&path).unwrap_err();
    assert!(
        matches!(err, Error::Unsupported { .. }) && err.to_string().contains("alaw.wav"),
        "{err}"
    );
}
