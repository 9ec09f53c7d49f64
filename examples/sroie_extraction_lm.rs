//! SROIE's four key fields (company, date, address, total) read from receipt photos by
//! OCR then the language model: ocr-det reads each image, its lines go into a
//! layout-aware prompt, SmolLM2 (with a LoRA adapter of `finetune_extraction_lm`, or
//! without) extracts the receipt under its schema, every value grounded; the values are
//! compared with SROIE's keys case-insensitively as SROIE compares them (F1 = 2 x right
//! / (predicted + true)). `--lines annotated` gives the model SROIE's own transcribed
//! lines instead of the OCR's, which separates what the OCR loses from what the model
//! does.
//!
//! ```sh
//! scripts/assets.sh
//! cargo run --release -p whet-examples --example sroie_extraction_lm -- \
//!     --adapter whet-out/extraction-lm/adapter
//! ```

#![allow(clippy::print_stdout)] // a program: it prints its results

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use serde_json::{Value, json};
use whet_core::data::sroie;
use whet_core::geom::TextRegion;
use whet_core::{DeviceSpec, gguf::Gguf};
use whet_eval_metrics::extraction::FieldMatch;
use whet_ocr_det::Ocr;
use whet_synth_docs::DocKind;
use whet_vlm_lora::{
    ExtractConfig, Grammars, LlamaForCausalLM, OcrPage, Precision, Tokenizer, extract,
};

/// Where the lines the model reads come from.
#[derive(Clone, Copy, ValueEnum)]
enum Lines {
    /// ocr-det reads the image.
    Ocr,
    /// SROIE's annotated lines (`box/*.csv`, whet-core's reader).
    Annotated,
}

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "../shared/data/sroie-dev")]
    sroie: PathBuf,
    /// PP-OCR weights (a rapidocr folder) or, with `--ocr-finetuned`, a saved pipeline.
    #[arg(long, default_value = "assets/rapidocr-1.4.4")]
    ocr: PathBuf,
    #[arg(long)]
    ocr_finetuned: bool,
    #[arg(
        long,
        default_value = "assets/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf"
    )]
    model: PathBuf,
    /// A PEFT adapter folder; none: the base model.
    #[arg(long)]
    adapter: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Lines::Ocr)]
    lines: Lines,
    /// Receipts to read (in name order); 0: all.
    #[arg(long, default_value_t = 0)]
    n: usize,
    #[arg(long)]
    device: Option<String>,
}

const KEYS: [(&str, &str); 4] = [
    ("company", "seller_name"),
    ("date", "date"),
    ("address", "seller_address"),
    ("total", "total"),
];

fn main() -> anyhow::Result<()> {
    whet_examples::init_tracing();
    let a = Args::parse();
    let device = DeviceSpec::from_arg_or_env(a.device.as_deref())?.device()?;
    let ocr = if a.ocr_finetuned {
        Ocr::load(&a.ocr, &device)?
    } else {
        Ocr::from_pretrained(&a.ocr, &device)?
    };
    let file = Gguf::open(&a.model)?;
    let tokenizer = Tokenizer::from_gguf(&file)?;
    let mut model = LlamaForCausalLM::from_gguf_file(&file, Precision::Packed, &device)?;
    if let Some(dir) = &a.adapter {
        whet_core::lora::load_peft(&mut model, "sft", dir, &device)?;
    }
    let grammars = Grammars::new(&tokenizer, tokenizer.vocab_size())?;
    let config = ExtractConfig::default();

    let mut keys: Vec<PathBuf> = std::fs::read_dir(a.sroie.join("key"))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    keys.sort();
    if a.n > 0 {
        keys.truncate(a.n);
    }
    let (mut right, mut predicted, mut truths) = ([0usize; 4], [0usize; 4], [0usize; 4]);
    let mut grounded = 0;
    for key in &keys {
        let stem = key.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        let truth: Value = serde_json::from_slice(&std::fs::read(key)?)?;
        let image = image::open(a.sroie.join("img").join(format!("{stem}.jpg")))?.to_rgb8();
        let lines: Vec<TextRegion> = match a.lines {
            Lines::Ocr => ocr
                .read(&image)?
                .into_iter()
                .map(|l| TextRegion::new(l.polygon, l.text))
                .collect(),
            Lines::Annotated => sroie::read_boxes(a.sroie.join("box").join(format!("{stem}.csv")))?,
        };
        let page =
            OcrPage::in_reading_order(lines, [f64::from(image.width()), f64::from(image.height())]);
        let x = extract(
            &model,
            &tokenizer,
            &grammars,
            &page,
            DocKind::Receipt,
            &config,
            &device,
        )?;
        let mut pred = json!({});
        for (i, (sroie, ours)) in KEYS.iter().enumerate() {
            let p = x.json[*ours].as_str().unwrap_or_default();
            let t = truth[*sroie].as_str().unwrap_or_default();
            predicted[i] += usize::from(!p.is_empty());
            truths[i] += usize::from(!t.is_empty());
            right[i] += usize::from(!t.is_empty() && FieldMatch::Text.matches(p, t));
            pred[*sroie] = json!(p);
            grounded += usize::from(x.get(ours).is_some_and(|v| v.polygon.is_some()));
        }
        println!("{stem}: {pred}  (review: {})", x.needs_review);
    }
    let f1 = |r: usize, p: usize, t: usize| 2.0 * r as f64 / (p + t).max(1) as f64;
    for (i, (sroie, _)) in KEYS.iter().enumerate() {
        println!(
            "{sroie:<8} F1 {:.4} ({} right, {} predicted, {} true)",
            f1(right[i], predicted[i], truths[i]),
            right[i],
            predicted[i],
            truths[i]
        );
    }
    let (r, p, t) = (
        right.iter().sum(),
        predicted.iter().sum(),
        truths.iter().sum(),
    );
    println!(
        "all      F1 {:.4} over {} receipts ({} lines); {grounded} of {p} predicted values grounded to a polygon",
        f1(r, p, t),
        keys.len(),
        match a.lines {
            Lines::Ocr => "OCR",
            Lines::Annotated => "annotated",
        }
    );
    Ok(())
}
