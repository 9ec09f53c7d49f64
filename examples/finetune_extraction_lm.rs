//! Fine-tunes SmolLM2-135M-Instruct with LoRA to extract Philippine receipts and invoices
//! as grounded JSON (every value with the OCR lines it is read from), on the CPU:
//! synthesise documents (printed in several receipt layouts, so that names and addresses
//! also come wrapped over lines), build instruction pairs, measure the base model on
//! held-out documents of another seed (58 mm receipts), fine-tune (completion-only loss), measure again, and
//! register the adapter (PEFT and GGUF files) and the merged model (safetensors folder,
//! Q8_0 GGUF) only if its field F1 is better.
//!
//! ```sh
//! scripts/assets.sh
//! cargo run --release -p whet-examples --example finetune_extraction_lm
//! ```

#![allow(clippy::print_stdout)] // a program: it prints its results

use std::path::PathBuf;

use clap::Parser;
use rand::{Rng, SeedableRng};
use whet_core::quant::GgmlType;
use whet_core::registry::{NewVersion, PromotionRule, Registry};
use whet_core::{DeviceSpec, Goal, gguf::Gguf, run::RunDir};
use whet_synth_docs::{FontSet, GeneratorConfig};
use whet_vlm_lora::{
    ExtractConfig, ExtractionReport, ExtractionSet, Grammars, LlamaForCausalLM, PairKind,
    Precision, SftConfig, SftExample, Tokenizer, finetune_with, write_chat_jsonl,
};

#[derive(Parser)]
struct Args {
    #[arg(
        long,
        default_value = "assets/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf"
    )]
    model: PathBuf,
    #[arg(long, default_value = "whet-out/extraction-lm")]
    out: PathBuf,
    /// Training documents (seed `--seed`).
    #[arg(long, default_value_t = 200)]
    train_docs: u64,
    /// Held-out documents (seed `--seed + 1000`).
    #[arg(long, default_value_t = 20)]
    test_docs: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Optimiser steps of one conversation each.
    #[arg(long, default_value_t = 180)]
    steps: usize,
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    #[arg(long, default_value_t = 16)]
    rank: usize,
    /// Share of the other four pair kinds (region, field, items, arithmetic) kept
    /// beside every whole extraction.
    #[arg(long, default_value_t = 0.1)]
    other_share: f64,
    /// Train over the base kept in its Q4_1 blocks (QLoRA) rather than decoded to f32.
    #[arg(long)]
    qlora: bool,
    /// Abort after this step (to show that the same command resumes).
    #[arg(long)]
    kill_at: Option<usize>,
    #[arg(long)]
    device: Option<String>,
}

fn show(name: &str, r: &ExtractionReport) {
    println!(
        "{name:<10} field F1 {:.4} ({} right, {} missed or wrong) | {} docs, {} unparsed, {} to review, {} of {} values not on the page | {:.1} s/doc",
        r.f1.f1.unwrap_or(0.0),
        r.f1.true_positives,
        r.f1.false_pos_or_neg,
        r.documents,
        r.failed,
        r.needs_review,
        r.not_on_page,
        r.values,
        r.seconds_per_document
    );
}

fn main() -> anyhow::Result<()> {
    whet_examples::init_tracing();
    let a = Args::parse();
    let spec = DeviceSpec::from_arg_or_env(a.device.as_deref())?;
    let (device, train_device) = (spec.device()?, spec.autodiff_device()?);
    let fonts = FontSet::system()?;
    let docs = GeneratorConfig::philippine_receipts(); // receipts and invoices
    let layouts = ExtractionSet::training_layouts();
    let train = ExtractionSet::synthetic_in(a.seed, a.train_docs, &docs, &fonts, &layouts)?;
    let test = ExtractionSet::synthetic(a.seed + 1000, a.test_docs, &docs, &fonts)?;

    let file = Gguf::open(&a.model)?;
    let tokenizer = Tokenizer::from_gguf(&file)?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(a.seed);
    let pairs = train.pairs(&mut rng);
    std::fs::create_dir_all(&a.out)?;
    write_chat_jsonl(a.out.join("train.jsonl"), &pairs)?;
    let examples = pairs
        .iter()
        .filter(|p| p.kind == PairKind::Full || rng.random_bool(a.other_share))
        .map(|p| SftExample::from_messages(&tokenizer, &p.messages, Some(2048)))
        .collect::<Result<Vec<_>, _>>()?;
    println!(
        "{} documents, {} pairs written to train.jsonl, {} conversations train",
        a.train_docs,
        pairs.len(),
        examples.len()
    );

    let grammars = Grammars::new(&tokenizer, tokenizer.vocab_size())?;
    let check = ExtractConfig::default();
    // Read with the weights kept in their Q4_1 blocks (llama.cpp's arithmetic): the
    // deployed form, and the fastest on a CPU.
    let base = LlamaForCausalLM::from_gguf_file(&file, Precision::Packed, &device)?;
    let before = test.evaluate(&base, &tokenizer, &grammars, &check, &device, |_, _| {})?;
    show("base", &before);

    let mut config = SftConfig::new(a.steps, 1, a.lr);
    config.lora.r = a.rank;
    config.lora.lora_alpha = 2.0 * a.rank as f64;
    config.train.seed = a.seed;
    let run = RunDir::resume_or_create(a.out.join("mlruns"), "extraction-lm", "lora-sft")?;
    let trainer = whet_core::train::Trainer::new(config.train.clone(), &train_device, run)?
        .with_user_config(&config)?
        .on_step(whet_examples::crash_at(a.kill_at));
    let precision = if a.qlora {
        Precision::Packed
    } else {
        Precision::F32
    };
    let model = LlamaForCausalLM::from_gguf_file(&file, precision, &train_device)?;
    let trained = finetune_with(model, examples, &config, trainer)?.model;
    let adapter = a.out.join("adapter");
    whet_core::lora::save_peft(&trained, &config.adapter, &adapter)?;
    let mut tuned = base;
    whet_core::lora::load_peft(&mut tuned, &config.adapter, &adapter, &device)?;
    let after = test.evaluate(&tuned, &tokenizer, &grammars, &check, &device, |_, _| {})?;
    show("base", &before);
    show("fine-tuned", &after);

    let f1 = after.f1.f1.unwrap_or(0.0);
    if f1 > before.f1.f1.unwrap_or(0.0) {
        let registry = Registry::open(a.out.join("registry"))?;
        let name = "smollm2-135m-extraction";
        let meta = NewVersion::new()
            .metric("field_f1", f1)
            .metric("base_field_f1", before.f1.f1.unwrap_or(0.0));
        let version = registry.register_written(name, meta, |dir| {
            whet_core::lora::save_peft(&tuned, &config.adapter, dir.join("peft"))?;
            whet_core::lora::save_gguf(&tuned, &config.adapter, dir.join("adapter.gguf"))?;
            // The adapter merged: for transformers, and for llama.cpp with INT8 weights.
            tuned.save_pretrained(dir.join("merged"), &device)?;
            tokenizer.save_pretrained(dir.join("merged"))?;
            tuned.save_merged_gguf(&file, GgmlType::Q8_0, dir.join("merged.q8_0.gguf"), &device)
        })?;
        let rule = PromotionRule::new("field_f1", Goal::Maximize, 0.0);
        let decision = registry.promote_if_improved(name, version.version, &rule)?;
        println!(
            "registered {name} v{} (PEFT and GGUF adapters, merged model as safetensors and Q8_0 GGUF): {decision:?}",
            version.version
        );
    } else {
        println!("not better than the base model: not registered");
    }
    Ok(())
}
