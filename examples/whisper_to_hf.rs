//! Converts a CTranslate2 Whisper folder (`model.bin`, `tokenizer.json`) into a Hugging
//! Face folder (`config.json`, f32 `model.safetensors`, `tokenizer.json`) that
//! transformers' `WhisperForConditionalGeneration` and `WhisperModel::from_pretrained`
//! read.
//!
//! ```sh
//! scripts/assets.sh
//! cargo run --release -p whet-examples --example whisper_to_hf -- whet-out/whisper-tiny.en-hf
//! ```

use std::path::PathBuf;

use clap::Parser;
use whet_core::DeviceSpec;
use whet_whisper_ft::WhisperModel;

#[derive(Parser)]
struct Args {
    /// The folder to write.
    out: PathBuf,
    #[arg(long, default_value = "assets/whisper-tiny.en")]
    ct2: PathBuf,
}

fn main() -> anyhow::Result<()> {
    whet_examples::init_tracing();
    let a = Args::parse();
    let device = DeviceSpec::Cpu.device()?;
    let model = WhisperModel::from_ct2(a.ct2.join("model.bin"), &device)?;
    model.save_pretrained(&a.out)?;
    whet_core::data::atomic_write(
        a.out.join("tokenizer.json"),
        &std::fs::read(a.ct2.join("tokenizer.json"))?,
    )?;
    Ok(())
}
