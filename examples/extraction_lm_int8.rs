//! INT8 weight-only inference of the fine-tuned extraction model against f32: field F1 on
//! the held-out documents `finetune_extraction_lm` measures, seconds per document, and
//! the weights' bytes. Run it once per precision, under `/usr/bin/time -v` for peak
//! memory:
//!
//! ```sh
//! cargo run --release -p whet-examples --example extraction_lm_int8 -- --precision f32
//! cargo run --release -p whet-examples --example extraction_lm_int8 -- --precision int8
//! ```

#![allow(clippy::print_stdout)] // a program: it prints its results

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use whet_core::DeviceSpec;
use whet_core::registry::{Alias, Registry};
use whet_synth_docs::{FontSet, GeneratorConfig};
use whet_vlm_lora::{
    ExtractConfig, ExtractionSet, Grammars, LlamaForCausalLM, Precision, Tokenizer,
};

#[derive(Clone, Copy, ValueEnum)]
enum Weights {
    /// The merged safetensors folder, f32.
    F32,
    /// The merged GGUF, projections in Q8_0, multiplied from their blocks.
    Int8,
}

#[derive(Parser)]
struct Args {
    #[arg(long, value_enum, default_value = "int8")]
    precision: Weights,
    #[arg(long, default_value = "whet-out/extraction-lm/registry")]
    registry: PathBuf,
    /// Registered version (default: the one in production).
    #[arg(long)]
    version: Option<u32>,
    /// Held-out documents (seed `--seed + 1000`, as `finetune_extraction_lm` holds out).
    #[arg(long, default_value_t = 20)]
    test_docs: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long)]
    device: Option<String>,
}

fn main() -> anyhow::Result<()> {
    whet_examples::init_tracing();
    let a = Args::parse();
    let device = DeviceSpec::from_arg_or_env(a.device.as_deref())?.device()?;
    let name = "smollm2-135m-extraction";
    let registry = Registry::open(&a.registry)?;
    let version = match a.version {
        Some(v) => v,
        None => {
            registry
                .alias(name, &Alias::Production)?
                .ok_or_else(|| {
                    anyhow::anyhow!("no {name} in production: run finetune_extraction_lm")
                })?
                .version
        }
    };
    let dir = registry.version_dir(name, version)?;
    let tokenizer = Tokenizer::from_pretrained(dir.join("merged"))?;
    let (model, file) = match a.precision {
        Weights::F32 => (
            LlamaForCausalLM::from_pretrained(dir.join("merged"), &device)?,
            dir.join("merged/model.safetensors"),
        ),
        Weights::Int8 => {
            let file = dir.join("merged.q8_0.gguf");
            (
                LlamaForCausalLM::from_gguf(&file, Precision::Packed, &device)?,
                file,
            )
        }
    };
    let fonts = FontSet::system()?;
    let docs = GeneratorConfig::philippine_receipts();
    let test = ExtractionSet::synthetic(a.seed + 1000, a.test_docs, &docs, &fonts)?;
    let grammars = Grammars::new(&tokenizer, model.config().vocab_size)?;
    let r = test.evaluate(
        &model,
        &tokenizer,
        &grammars,
        &ExtractConfig::default(),
        &device,
        |_, _| {},
    )?;
    println!(
        "{name} v{version} {}: field F1 {:.4} on {} documents | {:.1} s/doc | weights file {:.1} MB",
        match a.precision {
            Weights::F32 => "f32",
            Weights::Int8 => "int8",
        },
        r.f1.f1.unwrap_or(0.0),
        r.documents,
        r.seconds_per_document,
        std::fs::metadata(&file)?.len() as f64 / 1e6
    );
    Ok(())
}
