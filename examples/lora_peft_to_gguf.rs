//! Converts a PEFT LoRA adapter (`adapter_config.json` + `adapter_model.safetensors`)
//! into a llama.cpp GGUF adapter for the same model, which `llama-cli --lora` and
//! llama-cpp-python's `lora_path` load (what llama.cpp's `convert_lora_to_gguf.py` does,
//! without Python or the original checkpoint).
//!
//! ```sh
//! scripts/assets.sh
//! cargo run --release -p whet-examples --example lora_peft_to_gguf -- \
//!     --model assets/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf \
//!     --peft crates/vlm-lora/tests/golden/smollm2_peft --out adapter.gguf
//! ```

use std::path::PathBuf;

use clap::Parser;
use whet_core::lora;
use whet_core::{DeviceSpec, gguf::Gguf};
use whet_vlm_lora::{LlamaForCausalLM, Precision};

#[derive(Parser)]
struct Args {
    /// The base model's GGUF file (the adapter's tensor names and layout come from it).
    #[arg(long)]
    model: PathBuf,
    /// The PEFT adapter's folder.
    #[arg(long)]
    peft: PathBuf,
    /// Where to write the GGUF adapter.
    #[arg(long)]
    out: PathBuf,
}

fn main() -> anyhow::Result<()> {
    whet_examples::init_tracing();
    let a = Args::parse();
    let device = DeviceSpec::from_env()?.device()?;
    let mut model =
        LlamaForCausalLM::from_gguf_file(&Gguf::open(&a.model)?, Precision::Packed, &device)?;
    let layers = lora::load_peft(&mut model, "adapter", &a.peft, &device)?;
    lora::save_gguf(&model, "adapter", &a.out)?;
    tracing::info!(layers, out = %a.out.display(), "wrote a llama.cpp GGUF adapter");
    Ok(())
}
