//! Long-form transcription (`Whisper::transcribe`, openai-whisper's `transcribe`): the 5
//! LibriVox clips one by one, scored against their transcripts with Whisper's English
//! normaliser (eval-metrics' WER); the same clips joined into one 46-second file with
//! silences, which takes two windows and more; and empty audio.

#![allow(clippy::print_stderr)] // reports the measured figures the README quotes

use std::path::{Path, PathBuf};

use whet_core::burn::tensor::Device;
use whet_eval_metrics::text::{EnglishTextNormalizer, wer};
use whet_whisper_ft::{Audio, TranscribeOptions, Whisper};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const CLIPS: &str = "/usr/share/pocketsphinx/test/data/librivox";

/// (clip, reference) from pocketsphinx-testdata's `transcription`.
fn references() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(Path::new(CLIPS).join("transcription"))
        .expect("scripts/speech-data.sh installs pocketsphinx-testdata");
    text.lines()
        .filter_map(|l| {
            let (words, id) = l.rsplit_once(" (")?;
            let words = words
                .trim_start_matches("<s>")
                .trim_end_matches("</s>")
                .trim();
            Some((
                format!("{}.wav", id.trim_end_matches(')')),
                words.to_owned(),
            ))
        })
        .collect()
}

#[test]
fn librivox_clips_one_by_one_and_joined() {
    let device = Device::default();
    let whisper = Whisper::from_ct2_dir(
        root().join("assets/whisper-tiny.en"),
        root().join("assets/whisper/mel_filters.npz"),
        &device,
    )
    .unwrap();
    let options = TranscribeOptions::default();
    let norm = EnglishTextNormalizer;
    let (mut refs, mut hyps) = (Vec::new(), Vec::new());
    let mut joined = Audio {
        samples: Vec::new(),
        sample_rate: 16_000,
    };
    for _ in 0..2 {
        for (clip, reference) in references() {
            let audio = Audio::read_wav(Path::new(CLIPS).join(&clip)).unwrap();
            joined.samples.extend(&audio.samples);
            joined
                .samples
                .extend(std::iter::repeat_n(0.0, 16_000 * 3 / 2));
            if refs.len() < 5 {
                let t = whisper.transcribe(&audio, &options).unwrap();
                assert!(!t.segments.is_empty(), "{clip}");
                refs.push(norm.normalize(&reference));
                hyps.push(norm.normalize(&t.text));
            }
        }
    }
    let clip_wer = wer(&refs, &hyps).unwrap();
    eprintln!("5 clips: WER {clip_wer:.4} (Whisper's English normaliser)");
    assert!(clip_wer < 0.15, "WER {clip_wer}");

    // 10 clips with 1.5 s between them: 46 s, two windows or more.
    assert!(joined.duration() > 40.0);
    let t = whisper.transcribe(&joined, &options).unwrap();
    let last_end = t.segments.last().map_or(0.0, |s| s.end);
    assert!(last_end > 35.0, "the segments end at {last_end} s");
    assert!(t.segments.windows(2).all(|w| w[0].start <= w[1].start));
    let all_refs = refs.join(" ");
    let both = format!("{all_refs} {all_refs}");
    let joined_wer = wer(&[both], &[norm.normalize(&t.text)]).unwrap();
    eprintln!(
        "joined 46 s: WER {joined_wer:.4} over {} segments",
        t.segments.len()
    );
    assert!(joined_wer < 0.2, "WER {joined_wer}: {}", t.text);

    // No audio, no transcript.
    let empty = whisper.transcribe(&Audio::default(), &options).unwrap();
    assert!(empty.segments.is_empty() && empty.text.is_empty());
}

#[test]
fn a_batch_transcribes_as_one_by_one() {
    let device = Device::default();
    let whisper = Whisper::from_ct2_dir(
        root().join("assets/whisper-tiny.en"),
        root().join("assets/whisper/mel_filters.npz"),
        &device,
    )
    .unwrap();
    let options = TranscribeOptions::default();
    let mut audios: Vec<Audio> = references()
        .iter()
        .map(|(clip, _)| Audio::read_wav(Path::new(CLIPS).join(clip)).unwrap())
        .collect();
    // A long one beside them: the batch goes on with it after the short ones end.
    let mut long = Audio {
        samples: Vec::new(),
        sample_rate: 16_000,
    };
    for a in &audios {
        long.samples.extend(&a.samples);
        long.samples.extend(std::iter::repeat_n(0.0, 16_000));
    }
    audios.push(long);
    audios.push(Audio {
        samples: Vec::new(),
        sample_rate: 16_000,
    });
    let started = std::time::Instant::now();
    let batch = whisper.transcribe_batch(&audios, &options).unwrap();
    let batched = started.elapsed().as_secs_f64();
    let started = std::time::Instant::now();
    for (audio, b) in audios.iter().zip(&batch) {
        let one = whisper.transcribe(audio, &options).unwrap();
        let tokens = |t: &whet_whisper_ft::Transcript| -> Vec<u32> {
            t.segments.iter().flat_map(|s| s.tokens.clone()).collect()
        };
        assert_eq!(tokens(b), tokens(&one));
        assert_eq!(b.text, one.text);
    }
    eprintln!(
        "{} recordings: {batched:.1} s batched, {:.1} s one by one",
        audios.len(),
        started.elapsed().as_secs_f64()
    );
}
