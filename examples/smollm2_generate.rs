//! Loads SmolLM2-135M-Instruct from its GGUF file (weights, tokenizer and all) and
//! continues a chat prompt, streaming the tokens as they come.
//!
//! ```sh
//! scripts/assets.sh
//! cargo run --release -p whet-examples --example smollm2_generate -- "What is the capital of the Philippines?"
//! ```

#![allow(clippy::print_stdout)] // a program: it prints what the model writes

use std::io::Write;
use std::path::PathBuf;

use clap::Parser;
use whet_core::{DeviceSpec, gguf::Gguf};
use whet_vlm_lora::{
    ChatMessage, GenerationConfig, LlamaForCausalLM, Precision, Tokenizer, generate,
};

#[derive(Parser)]
struct Args {
    /// The user's message.
    message: String,
    #[arg(
        long,
        default_value = "assets/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf"
    )]
    model: PathBuf,
    #[arg(long, default_value_t = 128)]
    max_new_tokens: usize,
    /// 0: greedy.
    #[arg(long, default_value_t = 0.0)]
    temperature: f32,
    #[arg(long)]
    device: Option<String>,
    /// Weights decoded to f32 (transformers' arithmetic) instead of kept in their blocks
    /// (llama.cpp's).
    #[arg(long)]
    f32: bool,
}

fn main() -> anyhow::Result<()> {
    whet_examples::init_tracing();
    let a = Args::parse();
    let device = DeviceSpec::from_arg_or_env(a.device.as_deref())?.device()?;
    let file = Gguf::open(&a.model)?;
    let precision = if a.f32 {
        Precision::F32
    } else {
        Precision::Packed
    };
    let model = LlamaForCausalLM::from_gguf_file(&file, precision, &device)?;
    let tokenizer = Tokenizer::from_gguf(&file)?;
    let messages = [ChatMessage::new("user", a.message)];
    let prompt = tokenizer.apply_chat_template(&messages, true)?; // the GGUF's own template
    let ids = tokenizer.encode(&prompt, true)?;
    let config = GenerationConfig {
        max_new_tokens: a.max_new_tokens,
        temperature: a.temperature,
        ..Default::default()
    };
    let out = generate(&model, &tokenizer, &ids, &config, &device, |_, piece| {
        print!("{piece}");
        let _ = std::io::stdout().flush();
    })?;
    let generated = out.tokens.len().saturating_sub(1) as f64; // the first came with the prompt
    println!(
        "\n[prompt {} tokens at {:.1} tokens/s; {} generated at {:.1} tokens/s; {:?}]",
        ids.len(),
        ids.len() as f64 / out.prompt_seconds,
        out.tokens.len(),
        generated / out.decode_seconds.max(1e-9),
        out.stop
    );
    Ok(())
}
