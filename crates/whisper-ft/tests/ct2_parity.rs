//! Whisper tiny.en read from CTranslate2's `model.bin` gives CTranslate2's own encoder
//! output and greedy tokens (`scripts/golden/whisper-ct2.sh`: CTranslate2 4.6.0, f32) on
//! the 5 LibriVox clips of pocketsphinx-testdata, from this crate's log-mel of each.

#![allow(clippy::print_stderr)] // reports the measured figures the README quotes

use std::path::{Path, PathBuf};

use serde::Deserialize;
use whet_core::burn::tensor::{Device, Tensor, TensorData};
use whet_whisper_ft::{Audio, MelFilters, N_FRAMES, N_SAMPLES, WhisperModel, log_mel_spectrogram};

#[derive(Deserialize)]
struct Case {
    clip: String,
    encoder_every_150th_frame: Vec<Vec<f32>>,
    tokens: Vec<u32>,
}

#[derive(Deserialize)]
struct Golden {
    prompt: Vec<u32>,
    cases: Vec<Case>,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const EOT: u32 = 50256;
const CLIPS: &str = "/usr/share/pocketsphinx/test/data/librivox";

#[test]
fn tiny_en_gives_ctranslate2s_encoder_output_and_greedy_tokens() {
    let golden: Golden = serde_json::from_slice(
        &std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/ct2_tiny_en.json"))
            .unwrap(),
    )
    .unwrap();
    let device = Device::default();
    let model = WhisperModel::from_ct2(root().join("assets/whisper-tiny.en/model.bin"), &device)
        .expect("scripts/assets.sh fetches Whisper tiny.en");
    let filters = MelFilters::from_npz(root().join("assets/whisper/mel_filters.npz"), 80).unwrap();
    let mut worst = 0f32;
    for case in &golden.cases {
        let audio = Audio::read_wav(Path::new(CLIPS).join(&case.clip))
            .expect("scripts/speech-data.sh installs pocketsphinx-testdata");
        let mel = log_mel_spectrogram(&audio.samples, &filters, N_SAMPLES).unwrap();
        // The first 30 s window, as transcription's first segment.
        let rows: Vec<f32> = mel
            .data
            .chunks(mel.n_frames)
            .flat_map(|row| row[..N_FRAMES].iter().copied())
            .collect();
        let input = Tensor::<3>::from_data(TensorData::new(rows, [1, 80, N_FRAMES]), &device);
        let encoded = model.encoder.forward(input);
        let values = encoded.clone().into_data().try_to_vec::<f32>().unwrap();
        for (k, want) in case.encoder_every_150th_frame.iter().enumerate() {
            let got = &values[k * 150 * 384..k * 150 * 384 + 384];
            for (a, b) in got.iter().zip(want) {
                worst = worst.max((a - b).abs());
            }
        }
        let mut tokens = golden.prompt.clone();
        while tokens.len() < golden.prompt.len() + 100 {
            let logits = model
                .decoder
                .forward(std::slice::from_ref(&tokens), encoded.clone())
                .unwrap();
            let [_, t, v] = logits.dims();
            let last = logits
                .slice([0..1, t - 1..t, 0..v])
                .into_data()
                .try_to_vec::<f32>()
                .unwrap();
            let next = (0..v).fold(0, |b, i| if last[i] > last[b] { i } else { b }) as u32;
            if next == EOT {
                break;
            }
            tokens.push(next);
        }
        assert_eq!(
            &tokens[golden.prompt.len()..],
            &case.tokens[..],
            "{}",
            case.clip
        );
    }
    eprintln!("encoder: largest difference from CTranslate2 {worst:e}");
    assert!(worst < 5e-4, "encoder output {worst} from CTranslate2's");
}
