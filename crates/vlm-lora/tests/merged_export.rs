//! Merged exports: a model with a LoRA adapter, written as a Hugging Face folder or as
//! GGUF with the adapter merged into its weights, reads back giving the logits the
//! adapted model gives (transformers' own loading of such a folder is checked by
//! `scripts/check-merged-export.sh` on the fine-tuned SmolLM2).

use std::path::{Path, PathBuf};

use whet_core::burn::tensor::{Device, Tensor};
use whet_core::gguf::Gguf;
use whet_core::lora::{LoraConfig, LoraInit, TargetModules, add_adapter, set_adapter};
use whet_core::quant::GgmlType;
use whet_vlm_lora::{ChatMessage, LLAMA_PROJECTIONS, LlamaForCausalLM, Precision, Tokenizer};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn adapt(model: &mut LlamaForCausalLM, device: &Device) {
    let names = LLAMA_PROJECTIONS.iter().map(|s| s.to_string()).collect();
    let mut config = LoraConfig::new(4, 8.0, TargetModules::Names(names));
    config.init_lora_weights = LoraInit::Random; // B not zero: the adapter changes logits
    add_adapter(model, "t", &config, device).unwrap();
}

fn max_diff(a: Tensor<3>, b: Tensor<3>) -> f32 {
    (a - b).abs().max().into_scalar()
}

#[test]
fn a_merged_hugging_face_folder_gives_the_adapted_logits() {
    let device = Device::default();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/hf/llama_tiny_hf");
    let mut model = LlamaForCausalLM::from_pretrained(&golden, &device).unwrap();
    let seq = vec![vec![1u32, 5, 9, 200, 17, 3, 3, 250]];
    let base = model.forward(&seq, None, &device).unwrap();
    adapt(&mut model, &device);
    let want = model.forward(&seq, None, &device).unwrap();
    assert!(
        max_diff(base, want.clone()) > 1e-2,
        "the adapter changes nothing"
    );

    let dir = tempfile::tempdir().unwrap();
    model.save_pretrained(dir.path(), &device).unwrap();
    let back = LlamaForCausalLM::from_pretrained(dir.path(), &device).unwrap();
    assert_eq!(back.config(), model.config());
    let diff = max_diff(back.forward(&seq, None, &device).unwrap(), want);
    assert!(diff < 1e-4, "merged logits differ by {diff}");
}

#[test]
fn a_merged_gguf_and_the_saved_tokenizer_read_back_as_they_were() {
    let device = Device::default();
    let path = root().join("assets/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf");
    let file = Gguf::open(&path).expect("scripts/assets.sh fetches SmolLM2-135M-Instruct");
    let tok = Tokenizer::from_gguf(&file).unwrap();
    let mut model = LlamaForCausalLM::from_gguf_file(&file, Precision::F32, &device).unwrap();
    adapt(&mut model, &device);
    let prompt = tok
        .apply_chat_template(&[ChatMessage::new("user", "TOTAL 112.00")], true)
        .unwrap();
    let seq = vec![tok.encode(&prompt, true).unwrap()];
    let want = model.forward(&seq, None, &device).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("merged.gguf");
    model
        .save_merged_gguf(&file, GgmlType::F32, &out, &device)
        .unwrap();
    let merged = Gguf::open(&out).unwrap();
    let back = LlamaForCausalLM::from_gguf_file(&merged, Precision::F32, &device).unwrap();
    let diff = max_diff(back.forward(&seq, None, &device).unwrap(), want.clone());
    assert!(diff < 1e-3, "merged GGUF logits differ by {diff}");
    assert_eq!(
        Tokenizer::from_gguf(&merged)
            .unwrap()
            .encode(&prompt, true)
            .unwrap(),
        seq[0]
    );

    // INT8 weight-only: a quarter of the projections' f32 bytes, the same next token.
    let q8 = dir.path().join("merged.q8_0.gguf");
    model
        .save_merged_gguf(&file, GgmlType::Q8_0, &q8, &device)
        .unwrap();
    assert!(std::fs::metadata(&q8).unwrap().len() * 3 < std::fs::metadata(&out).unwrap().len());
    let int8 = LlamaForCausalLM::from_gguf(&q8, Precision::Packed, &device).unwrap();
    let last = |t: Tensor<3>| {
        let [_, s, v] = t.dims();
        t.narrow(1, s - 1, 1)
            .reshape([v])
            .argmax(0)
            .into_scalar::<i64>()
    };
    assert_eq!(last(int8.forward(&seq, None, &device).unwrap()), last(want));

    // Without the adapter, the same file would not be the adapted model.
    set_adapter(&mut model, None).unwrap();
    let base = model.forward(&seq, None, &device).unwrap();
    let diff = max_diff(back.forward(&seq, None, &device).unwrap(), base);
    assert!(diff > 1e-2, "the adapter changes nothing ({diff})");

    tok.save_pretrained(dir.path()).unwrap();
    let again = Tokenizer::from_pretrained(dir.path()).unwrap();
    assert_eq!(again.encode(&prompt, true).unwrap(), seq[0]);
    assert_eq!(again.eos(), tok.eos());
    assert_eq!(
        again
            .apply_chat_template(&[ChatMessage::new("user", "TOTAL 112.00")], true)
            .unwrap(),
        prompt
    );
}
