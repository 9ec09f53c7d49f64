//! Whisper tiny.en decoding each LibriVox clip of pocketsphinx-testdata (one window) as
//! openai-whisper's `DecodingTask` does (greedy, timestamp rules, non-speech tokens
//! suppressed), greedily and with 5 beams (openai-whisper's `BeamSearchDecoder`), writes
//! what faster-whisper 1.2.1 writes with the same weights and the same beams, without VAD
//! (`scripts/golden/whisper-faster.sh`): the same text tokens, the same text.
//!
//! faster-whisper computes its features its own way: the audio padded by 160 samples
//! only, and each 30-second window of the spectrogram padded with zeros (openai-whisper
//! pads the audio by 30 s instead). The same features are made here (`padding` 160, then
//! [`WhisperModel::encode`] zero-pads the window), so that what is compared is decoding.

#![allow(clippy::print_stderr)] // reports the measured figures the README quotes

use std::path::{Path, PathBuf};

use serde::Deserialize;
use whet_core::burn::tensor::Device;
use whet_whisper_ft::{
    Audio, DecodingOptions, MelFilters, WhisperModel, WhisperTokenizer, decode, log_mel_spectrogram,
};

#[derive(Deserialize)]
struct Segment {
    tokens: Vec<u32>,
}

#[derive(Deserialize)]
struct Case {
    clip: String,
    text: String,
    segments: Vec<Segment>,
}

#[derive(Deserialize)]
struct Golden {
    cases: Vec<Case>,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Samples faster-whisper's `FeatureExtractor` appends to the audio.
const FASTER_WHISPER_PADDING: usize = 160;

const CLIPS: &str = "/usr/share/pocketsphinx/test/data/librivox";

#[test]
fn tiny_en_writes_faster_whispers_transcripts() {
    let device = Device::default();
    let dir = root().join("assets/whisper-tiny.en");
    let model = WhisperModel::from_ct2(dir.join("model.bin"), &device).unwrap();
    let tokenizer =
        WhisperTokenizer::from_file(dir.join("tokenizer.json"), model.config()).unwrap();
    let filters = MelFilters::from_npz(root().join("assets/whisper/mel_filters.npz"), 80).unwrap();
    for (file, beams) in [
        ("faster_whisper_tiny_en.json", None),
        ("faster_whisper_tiny_en_beam5.json", Some(5)),
    ] {
        let golden: Golden = serde_json::from_slice(
            &std::fs::read(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/golden")
                    .join(file),
            )
            .unwrap(),
        )
        .unwrap();
        let options = DecodingOptions {
            beam_size: beams,
            ..DecodingOptions::default()
        };
        for case in &golden.cases {
            let audio = Audio::read_wav(Path::new(CLIPS).join(&case.clip))
                .expect("scripts/speech-data.sh installs pocketsphinx-testdata");
            let mel =
                log_mel_spectrogram(&audio.samples, &filters, FASTER_WHISPER_PADDING).unwrap();
            let encoded = model.encode(&mel, 0, &device).unwrap();
            let result = decode(&model, &tokenizer, encoded, &options).unwrap();
            let text_tokens: Vec<u32> = result
                .tokens
                .iter()
                .copied()
                .filter(|&t| t < tokenizer.eot)
                .collect();
            let want: Vec<u32> = case
                .segments
                .iter()
                .flat_map(|s| s.tokens.clone())
                .collect();
            let want: Vec<u32> = want.into_iter().filter(|&t| t < tokenizer.eot).collect();
            eprintln!("{} (beams {beams:?}): {:?}", case.clip, result.text);
            assert_eq!(text_tokens, want, "{} beams {beams:?}", case.clip);
            assert_eq!(
                result.text,
                case.text.trim(),
                "{} beams {beams:?}",
                case.clip
            );
        }
    }
}

#[test]
fn the_computed_suppression_list_is_the_models_own() {
    let dir = root().join("assets/whisper-tiny.en");
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
    let want: Vec<u32> = serde_json::from_value(config["suppress_ids"].clone()).unwrap();
    let tokenizer = WhisperTokenizer::from_file(
        dir.join("tokenizer.json"),
        &whet_whisper_ft::WhisperConfig::tiny_en(),
    )
    .unwrap();
    assert_eq!(tokenizer.non_speech_suppression(), want);
}

#[derive(Deserialize)]
struct EspeakClip {
    audio: String,
    text: String,
    language: String,
    sha256: String,
    segments: Vec<Segment>,
    transcript: String,
}

#[derive(Deserialize)]
struct EspeakGolden {
    seed: u64,
    clips: Vec<EspeakClip>,
}

/// 20 espeak-ng clips of Philippine English and Tagalog expense phrases with noise
/// (`scripts/golden/whisper-espeak.sh`), made again here from their text and seed: the
/// same bytes, then the same greedy tokens as faster-whisper — hallucinated loops of
/// 224 tokens on the Tagalog clips included.
#[test]
fn tiny_en_writes_faster_whispers_transcripts_of_espeak_clips() {
    use sha2::Digest;
    use whet_whisper_ft::{SpeechSynthConfig, normalize_transcript, synthesize_speech_set};
    let golden: EspeakGolden = serde_json::from_slice(
        &std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/faster_whisper_espeak.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let utterances: Vec<(String, String)> = golden
        .clips
        .iter()
        .map(|c| (c.text.clone(), c.language.clone()))
        .collect();
    let config = SpeechSynthConfig {
        seed: golden.seed,
        ..SpeechSynthConfig::default()
    };
    let records = synthesize_speech_set(&utterances, tmp.path(), &config)
        .expect("scripts/speech-data.sh installs espeak-ng");
    let device = Device::default();
    let dir = root().join("assets/whisper-tiny.en");
    let model = WhisperModel::from_ct2(dir.join("model.bin"), &device).unwrap();
    let tokenizer =
        WhisperTokenizer::from_file(dir.join("tokenizer.json"), model.config()).unwrap();
    let filters = MelFilters::from_npz(root().join("assets/whisper/mel_filters.npz"), 80).unwrap();
    let (mut refs, mut hyps) = (Vec::new(), Vec::new());
    for (clip, record) in golden.clips.iter().zip(&records) {
        let bytes = std::fs::read(&record.audio).unwrap();
        let sha = format!("{:x}", sha2::Sha256::digest(&bytes));
        assert_eq!(
            sha, clip.sha256,
            "{}: espeak-ng or the synthesis changed",
            clip.audio
        );
        let audio = Audio::read_wav(&record.audio).unwrap();
        let mel = log_mel_spectrogram(&audio.samples, &filters, FASTER_WHISPER_PADDING).unwrap();
        let encoded = model.encode(&mel, 0, &device).unwrap();
        let result = decode(&model, &tokenizer, encoded, &DecodingOptions::default()).unwrap();
        let text_tokens: Vec<u32> = result
            .tokens
            .iter()
            .copied()
            .filter(|&t| t < tokenizer.eot)
            .collect();
        let want: Vec<u32> = clip
            .segments
            .iter()
            .flat_map(|s| s.tokens.iter().copied())
            .filter(|&t| t < tokenizer.eot)
            .collect();
        assert_eq!(text_tokens, want, "{}", clip.audio);
        refs.push(normalize_transcript(&clip.text, &clip.language));
        hyps.push(normalize_transcript(&clip.transcript, &clip.language));
    }
    let wer = whet_eval_metrics::text::wer(&refs, &hyps).unwrap();
    eprintln!("20 espeak-ng clips: identical tokens; WER {wer:.4} (Whisper's normalisers)");
}
