//! Fine-tuning Whisper tiny.en through whet-core's Trainer on espeak-ng speech: a LoRA
//! adapter on the decoder lowers the transcript loss of what it trained on, written as a
//! PEFT adapter and read back into a fresh model with the same loss; full fine-tuning
//! with the encoder frozen leaves the encoder as it was.

#![allow(clippy::print_stderr)] // reports the measured loss

use std::path::{Path, PathBuf};

use whet_core::burn::tensor::Device;
use whet_core::lora::{TargetModules, load_peft, save_peft};
use whet_core::run::RunDir;
use whet_whisper_ft::{
    SpeechSynthConfig, TrainingBatch, TrainingUtterance, Whisper, WhisperFinetuneConfig,
    WhisperModel, finetune, synthesize_speech_set, transcript_loss,
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn whisper(device: &Device) -> Whisper {
    Whisper::from_dir(
        root().join("assets/whisper-tiny.en"),
        root().join("assets/whisper/mel_filters.npz"),
        device,
    )
    .unwrap()
}

fn loss(
    model: &WhisperModel,
    whisper: &Whisper,
    data: &[TrainingUtterance],
    device: &Device,
) -> f64 {
    let batch =
        TrainingBatch::new(data, &whisper.filters, whisper.tokenizer.eot, None, device).unwrap();
    let (sum, n) = transcript_loss(model, &batch).unwrap();
    f64::from(sum.into_scalar::<f32>()) / n as f64
}

fn speech(dir: &Path) -> Vec<whet_whisper_ft::SpeechRecord> {
    let utterances = [
        ("Paid 450 pesos for rice at Metro Fresh Mart.", "en"),
        ("Bumili ako ng tatlong pandesal, limampung piso.", "tl"),
        ("Transportation to Quezon City, 120 pesos.", "en"),
        ("Utang ni Bong sa tindahan, dalawampung piso.", "tl"),
    ]
    .map(|(t, l)| (t.to_owned(), l.to_owned()));
    synthesize_speech_set(&utterances, dir, &SpeechSynthConfig::default())
        .expect("scripts/speech-data.sh installs espeak-ng")
}

#[test]
fn lora_on_the_decoder_learns_and_loads_back_in_peft_form() {
    let tmp = tempfile::tempdir().unwrap();
    let records = speech(&tmp.path().join("speech"));
    let device = Device::default();
    let whisper = whisper(&device);
    let data = TrainingUtterance::from_records(&whisper, &records).unwrap();

    // The sequence: <|startoftranscript|> <|notimestamps|> " text" <|endoftext|>, scored
    // from <|notimestamps|> on.
    let t = &whisper.tokenizer;
    let first = &data[0];
    assert_eq!(first.tokens[0], t.sot);
    assert_eq!(first.first_target, 1);
    assert_eq!(first.tokens[1], t.no_timestamps);
    assert_eq!(*first.tokens.last().unwrap(), t.eot);
    assert_eq!(
        t.decode(&first.tokens[2..first.tokens.len() - 1]).unwrap(),
        " Paid 450 pesos for rice at Metro Fresh Mart."
    );
    let batch = TrainingBatch::new(&data, &whisper.filters, t.eot, None, &device).unwrap();
    let scored: usize = data.iter().map(TrainingUtterance::scored_tokens).sum();
    assert_eq!(
        (batch.positions.len(), batch.targets.len()),
        (scored, scored)
    );

    let before = loss(&whisper.model, &whisper, &data, &device);
    let train_device = device.clone().autodiff();
    let mut config = WhisperFinetuneConfig::lora(8, 4, 1e-3);
    if let Some(lora) = config.lora.as_mut() {
        lora.target_modules = TargetModules::Pattern(r"model\.decoder\..*(q_proj|v_proj)".into());
    }
    let run = RunDir::create(tmp.path().join("mlruns"), "test", "lora").unwrap();
    let model =
        WhisperModel::from_dir(root().join("assets/whisper-tiny.en"), &train_device).unwrap();
    let outcome = finetune(&whisper, model, data.clone(), &config, run, &train_device).unwrap();
    save_peft(&outcome.model, &config.adapter, tmp.path().join("peft")).unwrap();
    let adapter_config =
        std::fs::read_to_string(tmp.path().join("peft/adapter_config.json")).unwrap();
    assert!(adapter_config.contains("decoder"), "{adapter_config}");

    let mut tuned = WhisperModel::from_dir(root().join("assets/whisper-tiny.en"), &device).unwrap();
    load_peft(
        &mut tuned,
        &config.adapter,
        tmp.path().join("peft"),
        &device,
    )
    .unwrap();
    let after = loss(&tuned, &whisper, &data, &device);
    eprintln!("transcript loss {before:.4} -> {after:.4} after 8 LoRA steps");
    assert!(after < 0.7 * before, "loss {before} -> {after}");
}

#[test]
fn full_finetuning_with_a_frozen_encoder_moves_only_the_decoder() {
    let tmp = tempfile::tempdir().unwrap();
    let records = speech(&tmp.path().join("speech"));
    let device = Device::default();
    let whisper = whisper(&device);
    let data = TrainingUtterance::from_records(&whisper, &records[..2]).unwrap();
    let train_device = device.clone().autodiff();
    let mut config = WhisperFinetuneConfig::full(2, 2, 1e-4);
    config.freeze_encoder = true;
    let run = RunDir::create(tmp.path().join("mlruns"), "test", "full").unwrap();
    let model =
        WhisperModel::from_dir(root().join("assets/whisper-tiny.en"), &train_device).unwrap();
    let trained = finetune(&whisper, model, data, &config, run, &train_device)
        .unwrap()
        .model;
    let values = |m: &WhisperModel, name: &str| {
        m.named_tensors()
            .unwrap()
            .into_iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, _, v)| v)
            .unwrap()
    };
    for name in [
        "model.encoder.conv1.weight",
        "model.encoder.layers.2.fc1.weight",
    ] {
        assert_eq!(
            values(&trained, name),
            values(&whisper.model, name),
            "{name}"
        );
    }
    for name in [
        "model.decoder.embed_tokens.weight",
        "model.decoder.layers.1.fc2.weight",
    ] {
        assert_ne!(
            values(&trained, name),
            values(&whisper.model, name),
            "{name}"
        );
    }
}
