//! whet-core's LoRA on Whisper under PEFT's module paths: `q_proj` and `v_proj` adapters
//! in all 12 attentions, the model unchanged until they train (B starts at zero), written
//! as a PEFT adapter and read back into a fresh model.

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
