//! Extracts receipts as JSON with SmolLM2-135M-Instruct, every token held to a JSON
//! schema by llguidance, a batch of receipts at a time; checks every output against the
//! schema (with the `jsonschema` crate) and scores SROIE's four fields.
//!
//! ```sh
//! scripts/assets.sh
//! cargo run --release -p whet-examples --example smollm2_extract_json -- \
//!     --sroie ../shared/data/sroie-dev --n 200 --batch 8 --temperature 0.7
//! ```

#![allow(clippy::print_stdout)] // a program: it prints its report

use std::collections::HashMap;
use std::path::PathBuf;

use clap::Parser;
use whet_core::{DeviceSpec, gguf::Gguf};
use whet_eval_metrics::extraction::{FieldMatch, field_accuracy};
use whet_vlm_lora::{
    ChatMessage, GenerationConfig, Grammars, LlamaForCausalLM, Precision, StopReason, Tokenizer,
    generate_batch, receipt_schema,
};

#[derive(Parser)]
struct Args {
    /// A SROIE folder (`box/*.csv` OCR lines, `key/*.json` true fields).
    #[arg(long)]
    sroie: PathBuf,
    /// Generations in all (cycling through the receipts, a new seed each pass).
    #[arg(long, default_value_t = 200)]
    n: usize,
    #[arg(long, default_value_t = 8)]
    batch: usize,
    /// 0: greedy.
    #[arg(long, default_value_t = 0.7)]
    temperature: f32,
    #[arg(long, default_value_t = 512)]
    max_new_tokens: usize,
    #[arg(
        long,
        default_value = "assets/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf"
    )]
    model: PathBuf,
}

fn main() -> anyhow::Result<()> {
    whet_examples::init_tracing();
    let a = Args::parse();
    let device = DeviceSpec::from_env()?.device()?;
    let file = Gguf::open(&a.model)?;
    let model = LlamaForCausalLM::from_gguf_file(&file, Precision::Packed, &device)?;
    let tokenizer = Tokenizer::from_gguf(&file)?;
    let schema = receipt_schema();
    let grammars = Grammars::new(&tokenizer, model.config().vocab_size)?;
    let validator = jsonschema::validator_for(&schema)?;

    let receipts = whet_core::data::sroie::read_folder(&a.sroie)?; // img/X.jpg -> OCR lines
    let mut jobs = Vec::new(); // (prompt tokens, true fields)
    for (image, lines) in receipts.iter().cycle().take(a.n) {
        let stem = image.trim_start_matches("img/").trim_end_matches(".jpg");
        let key = a.sroie.join("key").join(format!("{stem}.json"));
        let truth: serde_json::Value = serde_json::from_slice(&std::fs::read(&key)?)?;
        let text: Vec<&str> = lines.iter().map(|r| r.text.as_str()).collect();
        let message = format!("Extract this receipt as JSON.\n\n{}", text.join("\n"));
        let prompt = tokenizer.apply_chat_template(&[ChatMessage::new("user", message)], true)?;
        jobs.push((tokenizer.encode(&prompt, true)?, truth));
    }

    let (mut valid, mut cut, mut tokens, mut masks, mut mask_s, mut max_mask_s) =
        (0, 0, 0, 0, 0.0, 0.0f64);
    let (mut decode_s, mut prompt_s) = (0.0, 0.0);
    let (mut preds, mut truths) = (Vec::new(), Vec::new());
    for (b, chunk) in jobs.chunks(a.batch).enumerate() {
        let prompts: Vec<Vec<u32>> = chunk.iter().map(|j| j.0.clone()).collect();
        let mut constraints = prompts
            .iter()
            .map(|_| grammars.json_schema(&schema))
            .collect::<Result<Vec<_>, _>>()?;
        let config = GenerationConfig {
            max_new_tokens: a.max_new_tokens,
            temperature: a.temperature,
            seed: (b * a.batch) as u64,
            ..Default::default()
        };
        let outs = generate_batch(
            &model,
            &tokenizer,
            &prompts,
            &config,
            &mut constraints,
            &device,
            |_, _, _| {},
        )?;
        for ((out, c), (_, truth)) in outs.iter().zip(&constraints).zip(chunk) {
            let value = serde_json::from_str::<serde_json::Value>(&out.text).ok();
            let ok = value.as_ref().is_some_and(|v| validator.is_valid(v));
            valid += usize::from(ok);
            if out.stop == StopReason::Length {
                cut += 1;
                tracing::warn!(text = %out.text, "cut short");
            }
            tokens += out.tokens.len();
            let s = c.stats();
            (masks, mask_s, max_mask_s) = (
                masks + s.masks,
                mask_s + s.mask_seconds,
                max_mask_s.max(s.max_mask_seconds),
            );
            let mut pred = serde_json::Map::new();
            for k in ["company", "date", "address", "total"] {
                if let Some(v) = value.as_ref().and_then(|v| v.get(k)) {
                    pred.insert(k.into(), v.clone());
                }
            }
            preds.push(serde_json::Value::Object(pred));
            truths.push(truth.clone());
        }
        decode_s += outs.iter().map(|o| o.decode_seconds).fold(0.0, f64::max);
        prompt_s += outs[0].prompt_seconds;
        println!(
            "batch {b}: {valid}/{} valid so far; last: {}",
            preds.len(),
            outs[0].text
        );
    }
    let rules = HashMap::from([("total", FieldMatch::Amount), ("date", FieldMatch::Date)]);
    let report = field_accuracy(&preds, &truths, &rules);
    println!(
        "\n{valid}/{} parse and validate ({cut} cut short at {} tokens)",
        jobs.len(),
        a.max_new_tokens
    );
    println!(
        "mask: {:.0} us/token mean, {:.0} us max, over {masks} tokens ({:.2}% of decode time)",
        mask_s * 1e6 / masks.max(1) as f64,
        max_mask_s * 1e6,
        100.0 * mask_s / decode_s.max(1e-9)
    );
    println!(
        "generated {tokens} tokens in {decode_s:.0} s ({:.1} tokens/s, batch {}); prompts {prompt_s:.0} s",
        tokens as f64 / decode_s.max(1e-9),
        a.batch
    );
    println!("untuned fields vs SROIE keys:\n{report}");
    Ok(())
}
