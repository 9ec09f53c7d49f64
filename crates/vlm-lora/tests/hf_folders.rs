//! Hugging Face model folders as transformers 5.12.1 writes them
//! (`scripts/golden/llama_hf.py`): a small Llama in f32 with its own output head and one
//! in bf16 with tied embeddings give transformers' logits; SmolLM2's tokenizer saved by
//! transformers tokenises as transformers does and renders the chat template; malformed
//! folders are typed errors naming the file or tensor.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use whet_core::burn::tensor::Device;
use whet_vlm_lora::{ChatMessage, Error, LlamaForCausalLM, Tokenizer};

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

#[derive(Deserialize)]
struct Fixture {
    sequences: Vec<Vec<u32>>,
    models: std::collections::BTreeMap<String, Vec<Vec<Vec<f32>>>>,
}

#[test]
fn transformers_folders_give_transformers_logits() {
    let fx: Fixture =
        serde_json::from_slice(&std::fs::read(golden().join("hf/llama_tiny_hf.json")).unwrap())
            .unwrap();
    let device = Device::default();
    for (name, want) in &fx.models {
        let model =
            LlamaForCausalLM::from_pretrained(golden().join("hf").join(name), &device).unwrap();
        assert_eq!(
            model.config().rope_theta,
            50_000.0,
            "{name}: rope_parameters"
        );
        for (seq, want) in fx.sequences.iter().zip(want) {
            let logits = model
                .forward(std::slice::from_ref(seq), None, &device)
                .unwrap();
            let got = logits.into_data().try_into_vec::<f32>().unwrap();
            let want: Vec<f32> = want.iter().flatten().copied().collect();
            assert_eq!(got.len(), want.len());
            let worst = got
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(worst < 1e-5, "{name}: {worst} from transformers");
        }
    }
}

#[derive(Deserialize)]
struct Tokenized {
    text: String,
    tokens: Vec<u32>,
}

#[derive(Deserialize)]
struct ChatCase {
    messages: Vec<ChatMessage>,
    add_generation_prompt: bool,
    text: String,
}

/// transformers' conversion of the GGUF tokenizer is its own (it drops llama.cpp's
/// digit-by-digit split, so it parts from llama.cpp on numbers): the folder's tokenizer is
/// held to transformers' tokens of it.
#[test]
fn a_transformers_tokenizer_folder_tokenises_as_transformers() {
    let tok = Tokenizer::from_pretrained(golden().join("hf/smollm2_tokenizer")).unwrap();
    assert_eq!(tok.vocab_size(), 49_152);
    let fx: Vec<Tokenized> =
        serde_json::from_slice(&std::fs::read(golden().join("hf/smollm2_tokenizer.json")).unwrap())
            .unwrap();
    let wrong: Vec<&str> = fx
        .iter()
        .filter(|t| tok.encode(&t.text, true).unwrap() != t.tokens)
        .map(|t| t.text.as_str())
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {}: {:?}",
        wrong.len(),
        fx.len(),
        &wrong[..wrong.len().min(3)]
    );
    // The template comes from chat_template.jinja; the special tokens from the config.
    assert_eq!(tok.bos(), Some(1));
    let chats: Vec<ChatCase> =
        serde_json::from_slice(&std::fs::read(golden().join("chat_template.json")).unwrap())
            .unwrap();
    for c in &chats {
        let text = tok
            .apply_chat_template(&c.messages, c.add_generation_prompt)
            .unwrap();
        assert_eq!(text, c.text);
    }
}

/// A copy of a golden folder to break.
fn copy_of(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(golden().join("hf").join(name)).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    dir
}

#[test]
fn broken_folders_are_typed_errors_naming_the_file() {
    let device = Device::default();
    let load = |dir: &Path| LlamaForCausalLM::from_pretrained(dir, &device).unwrap_err();

    let missing = load(Path::new("/nonexistent/model"));
    assert!(missing.to_string().contains("config.json"), "{missing}");

    let dir = copy_of("llama_tiny_hf");
    let config = dir.path().join("config.json");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("\"llama\"", "\"qwen2\"")).unwrap();
    let e = load(dir.path());
    assert!(
        matches!(&e, Error::Model { path, .. } if path.ends_with("config.json")),
        "{e}"
    );
    std::fs::write(&config, text.replace("\"default\"", "\"yarn\"")).unwrap();
    let e = load(dir.path());
    assert!(e.to_string().contains("yarn"), "{e}");
    std::fs::write(
        &config,
        text.replace("\"intermediate_size\": 160", "\"intermediate_size\": 128"),
    )
    .unwrap();
    let e = load(dir.path());
    assert!(matches!(&e, Error::Weights { .. }), "{e}");
    std::fs::write(&config, &text[..text.len() / 2]).unwrap();
    let e = load(dir.path());
    assert!(e.to_string().contains("config.json"), "{e}");
    std::fs::write(&config, &text).unwrap();

    let weights = dir.path().join("model.safetensors");
    let bytes = std::fs::read(&weights).unwrap();
    std::fs::write(&weights, &bytes[..bytes.len() - 100]).unwrap();
    let e = load(dir.path());
    assert!(
        matches!(&e, Error::Model { path, .. } if path.ends_with("model.safetensors")),
        "{e}"
    );
}
