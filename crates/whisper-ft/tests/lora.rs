//! whet-core's LoRA on Whisper under PEFT's module paths: `q_proj` and `v_proj` adapters
//! in all 12 attentions, the model unchanged until they train (B starts at zero), written
//! as a PEFT adapter and read back into a fresh model; an adapter PEFT itself made gives
//! PEFT's logits.

#![allow(clippy::print_stderr)] // reports the measured figures the README quotes

use std::path::Path;

use whet_core::burn::tensor::{Device, Tensor, TensorData};
use whet_core::lora::{self, LoraConfig, LoraModel, TargetModules};
use whet_whisper_ft::WhisperModel;

#[test]
fn peft_adapters_on_the_attention_projections() {
    let device = Device::default();
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/whisper-tiny.en/model.bin");
    let mut model = WhisperModel::from_ct2(&bin, &device).unwrap();
    let paths: Vec<String> = model.lora_layers().into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths.len(), 4 * 6 + 4 * 10);
    assert!(paths.contains(&"model.decoder.layers.3.encoder_attn.v_proj".to_owned()));
    let config = LoraConfig::new(
        8,
        16.0,
        TargetModules::Names(vec!["q_proj".into(), "v_proj".into()]),
    );
    let n = lora::add_adapter(&mut model, "speech", &config, &device).unwrap();
    assert_eq!(n, 2 * (4 + 2 * 4));

    let mel = Tensor::<3>::from_data(
        TensorData::new(
            (0..80 * 3000)
                .map(|i| ((i % 113) as f32) / 113.0 - 0.5)
                .collect::<Vec<_>>(),
            [1, 80, 3000],
        ),
        &device,
    );
    let base = WhisperModel::from_ct2(&bin, &device).unwrap();
    let a = model
        .encoder
        .forward(mel.clone())
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    let b = base
        .encoder
        .forward(mel)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    assert_eq!(a, b, "an untrained adapter changes nothing");

    let dir = tempfile::tempdir().unwrap();
    lora::save_peft(&model, "speech", dir.path()).unwrap();
    assert!(dir.path().join("adapter_config.json").exists());
    let mut fresh = WhisperModel::from_ct2(&bin, &device).unwrap();
    let loaded = lora::load_peft(&mut fresh, "speech", dir.path(), &device).unwrap();
    assert_eq!(loaded, n);
}

/// An adapter PEFT 0.21.2 made on transformers' Whisper (`scripts/golden/whisper-peft.sh`:
/// r 4 on every `q_proj` and `v_proj`, both factors random) loads here and gives PEFT's
/// logits.
#[test]
fn a_peft_made_adapter_gives_pefts_logits() {
    #[derive(serde::Deserialize)]
    struct Golden {
        tokens: Vec<u32>,
        base: Vec<Vec<f32>>,
        adapted: Vec<Vec<f32>>,
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/whisper_peft");
    let golden: Golden =
        serde_json::from_slice(&std::fs::read(dir.join("logits.json")).unwrap()).unwrap();
    let device = Device::default();
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/whisper-tiny.en/model.bin");
    let mut model = WhisperModel::from_ct2(&bin, &device).unwrap();
    let mel = Tensor::<3>::from_data(
        TensorData::new(
            (0..80 * 3000)
                .map(|i| ((i % 113) as f32) / 113.0 - 0.5)
                .collect::<Vec<_>>(),
            [1, 80, 3000],
        ),
        &device,
    );
    let logits = |m: &WhisperModel| -> Vec<Vec<f32>> {
        let audio = m.encoder.forward(mel.clone());
        let out = m
            .decoder
            .forward(std::slice::from_ref(&golden.tokens), audio)
            .unwrap();
        let vocab = out.dims()[2];
        let flat = out.into_data().try_to_vec::<f32>().unwrap();
        flat.chunks(vocab).map(|r| r[..1000].to_vec()).collect()
    };
    let worst = |a: &[Vec<f32>], b: &[Vec<f32>]| {
        a.iter()
            .flatten()
            .zip(b.iter().flatten())
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max)
    };
    let base = worst(&logits(&model), &golden.base);
    lora::load_peft(&mut model, "peft", dir.join("adapter"), &device).unwrap();
    let adapted = worst(&logits(&model), &golden.adapted);
    let moved = worst(&golden.base, &golden.adapted);
    eprintln!(
        "logits within {base:.1e} (base) and {adapted:.1e} (adapted) of transformers + PEFT; the adapter moves them by {moved:.1}"
    );
    assert!(moved > 1.0);
    // 3.5e-5 and 1.8e-5 measured: f32 arithmetic of two implementations.
    assert!(base < 2e-4 && adapted < 2e-4, "{base} {adapted}");
}
