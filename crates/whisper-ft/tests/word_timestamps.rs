//! Word-level timestamps as openai-whisper 20250625's `transcribe(word_timestamps=True)`
//! (`scripts/golden/whisper-words.sh`) with Whisper tiny.en on the 5 LibriVox clips and
//! on the clips joined twice over (where the words move `seek`): the same segments, the
//! same words, the same times (179 words, every time equal).

#![allow(clippy::print_stderr)] // reports the measured figures the README quotes

use std::path::{Path, PathBuf};

use serde::Deserialize;
use whet_core::burn::tensor::Device;
use whet_whisper_ft::{Audio, TranscribeOptions, Whisper};

#[derive(Deserialize)]
struct Word {
    word: String,
    start: f64,
    end: f64,
    probability: f64,
}

#[derive(Deserialize)]
struct Segment {
    start: f64,
    end: f64,
    text: String,
    words: Vec<Word>,
}

#[derive(Deserialize)]
struct Case {
    clip: String,
    segments: Vec<Segment>,
}

#[derive(Deserialize)]
struct Golden {
    cases: Vec<Case>,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const CLIPS: &str = "/usr/share/pocketsphinx/test/data/librivox";

#[test]
fn word_timestamps_are_openai_whispers() {
    let golden: Golden = serde_json::from_slice(
        &std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/openai_words_tiny_en.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let device = Device::default();
    let whisper = Whisper::from_dir(
        root().join("assets/whisper-tiny.en"),
        root().join("assets/whisper/mel_filters.npz"),
        &device,
    )
    .unwrap();
    assert_eq!(
        whisper.alignment_heads.len(),
        8,
        "tiny.en's heads from config.json"
    );
    let options = TranscribeOptions {
        word_timestamps: true,
        ..TranscribeOptions::default()
    };
    let clips: Vec<Audio> = golden
        .cases
        .iter()
        .filter(|c| c.clip != "joined")
        .map(|c| Audio::read_wav(Path::new(CLIPS).join(&c.clip)).unwrap())
        .collect();
    let mut joined = Audio {
        samples: Vec::new(),
        sample_rate: 16_000,
    };
    for _ in 0..2 {
        for c in &clips {
            joined.samples.extend(&c.samples);
            joined.samples.extend(std::iter::repeat_n(0.0, 24_000));
        }
    }
    let (mut words, mut worst, mut worst_p) = (0, 0f64, 0f64);
    for (case, audio) in golden.cases.iter().zip(clips.iter().chain([&joined])) {
        let t = whisper.transcribe(audio, &options).unwrap();
        assert_eq!(t.segments.len(), case.segments.len(), "{}", case.clip);
        for (got, want) in t.segments.iter().zip(&case.segments) {
            assert_eq!(got.text, want.text, "{}", case.clip);
            let got_words: Vec<&str> = got.words.iter().map(|w| w.word.as_str()).collect();
            let want_words: Vec<&str> = want.words.iter().map(|w| w.word.as_str()).collect();
            assert_eq!(got_words, want_words, "{}", case.clip);
            for (g, w) in got.words.iter().zip(&want.words) {
                worst = worst
                    .max((g.start - w.start).abs())
                    .max((g.end - w.end).abs());
                worst_p = worst_p.max((g.probability - w.probability).abs());
                words += 1;
            }
            worst = worst
                .max((got.start - want.start).abs())
                .max((got.end - want.end).abs());
        }
    }
    eprintln!(
        "{words} words: times within {worst:.3} s of openai-whisper, probabilities within {worst_p:.1e}"
    );
    assert!(worst < 1e-9, "word or segment times off by {worst} s");
    // Probabilities are softmaxes over 51,864 f32 logits of two implementations (4.1e-4
    // measured); the times, read off DTW paths, are identical.
    assert!(worst_p < 1e-3, "word probabilities off by {worst_p}");
}
