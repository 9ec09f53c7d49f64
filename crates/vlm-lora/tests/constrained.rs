//! Batched and constrained generation on SmolLM2-135M-Instruct: a batch of prompts of
//! different lengths generates what each prompt alone does, and every generation held
//! to the receipt schema parses and validates (checked by the `jsonschema` crate, not by
//! llguidance itself), even sampled hot.
#![allow(clippy::print_stderr)] // reports the mask costs the README quotes

use std::path::{Path, PathBuf};

use whet_core::burn::tensor::Device;
use whet_core::gguf::Gguf;
use whet_vlm_lora::{
    ChatMessage, Error, GenerationConfig, Grammars, KvCache, LlamaForCausalLM, Precision,
    StopReason, Tokenizer, generate, generate_batch, generate_constrained, receipt_schema,
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn load() -> (LlamaForCausalLM, Tokenizer, Device) {
    let file = Gguf::open(root().join("assets/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf"))
        .expect("scripts/assets.sh fetches SmolLM2-135M-Instruct");
    let device = Device::default();
    let model = LlamaForCausalLM::from_gguf_file(&file, Precision::F32, &device).unwrap();
    (model, Tokenizer::from_gguf(&file).unwrap(), device)
}

fn chat(tok: &Tokenizer, message: &str) -> Vec<u32> {
    let prompt = tok
        .apply_chat_template(&[ChatMessage::new("user", message)], true)
        .unwrap();
    tok.encode(&prompt, true).unwrap()
}

#[test]
fn a_batch_of_prompts_of_different_lengths_generates_what_each_alone_does() {
    let (model, tok, device) = load();
    let prompts: Vec<Vec<u32>> = [
        "Hi",
        "What is the capital of the Philippines? Answer in one sentence.",
        "List three fruits.",
    ]
    .iter()
    .map(|m| chat(&tok, m))
    .collect();
    assert!(prompts[0].len() != prompts[1].len());

    // The first step's logits, batched (left-padded) and alone.
    let mut cache = KvCache::new();
    let batched = model
        .forward_last(&prompts, Some(&mut cache), &device)
        .unwrap();
    for (i, p) in prompts.iter().enumerate() {
        let alone = model
            .forward_last(std::slice::from_ref(p), None, &device)
            .unwrap();
        let row = batched.clone().narrow(0, i, 1);
        let diff: f32 = (row - alone).abs().max().into_scalar();
        assert!(diff < 1e-3, "row {i}: logits differ by {diff}");
    }

    let config = GenerationConfig {
        max_new_tokens: 24,
        ..Default::default()
    };
    let mut streamed = vec![Vec::new(); prompts.len()];
    let outs = generate_batch(
        &model,
        &tok,
        &prompts,
        &config,
        &mut [],
        &device,
        |r, t, _| streamed[r].push(t),
    )
    .unwrap();
    for (i, (p, out)) in prompts.iter().zip(&outs).enumerate() {
        let alone = generate(&model, &tok, p, &config, &device, |_, _| {}).unwrap();
        assert_eq!(out.tokens, alone.tokens, "row {i}");
        assert_eq!(out.stop, alone.stop, "row {i}");
        assert_eq!(streamed[i], out.tokens, "row {i} streamed");
    }
}

/// A SROIE receipt's OCR lines (real scanned receipts from `../shared/data`).
fn receipt_text(name: &str) -> String {
    let path = root().join("../shared/data/sroie-dev/box").join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter_map(|l| l.splitn(9, ',').nth(8))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn receipt_schema_generations_always_parse_and_validate() {
    let (model, tok, device) = load();
    let grammars = Grammars::new(&tok, model.config().vocab_size).unwrap();
    let schema = receipt_schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let receipts = ["000.csv", "010.csv", "020.csv", "030.csv"];
    let prompts: Vec<Vec<u32>> = receipts
        .iter()
        .map(|r| {
            chat(
                &tok,
                &format!("Extract this receipt as JSON.\n\n{}", receipt_text(r)),
            )
        })
        .collect();
    let mut constraints: Vec<_> = prompts
        .iter()
        .map(|_| grammars.json_schema(&schema).unwrap())
        .collect();
    // Sampled hot, so that the model often wants what the schema forbids.
    let config = GenerationConfig {
        max_new_tokens: 400,
        temperature: 1.2,
        seed: 7,
        ..Default::default()
    };
    let outs = generate_batch(
        &model,
        &tok,
        &prompts,
        &config,
        &mut constraints,
        &device,
        |_, _, _| {},
    )
    .unwrap();
    for (i, out) in outs.iter().enumerate() {
        assert_ne!(
            out.stop,
            StopReason::Length,
            "{}: cut short: {}",
            receipts[i],
            out.text
        );
        let value: serde_json::Value = serde_json::from_str(&out.text)
            .unwrap_or_else(|e| panic!("{}: {e}: {}", receipts[i], out.text));
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "{}: {errors:?}: {}",
            receipts[i],
            out.text
        );
        let stats = constraints[i].stats();
        assert_eq!(stats.masks, out.tokens.len());
        eprintln!(
            "{}: {} tokens, mask {:.0} us/token (max {:.0} us): {}",
            receipts[i],
            out.tokens.len(),
            stats.mean_mask_us(),
            stats.max_mask_seconds * 1e6,
            out.text
        );
    }
}

#[test]
fn a_tight_token_budget_still_ends_in_a_valid_document() {
    let (model, tok, device) = load();
    let grammars = Grammars::new(&tok, model.config().vocab_size).unwrap();
    let schema = receipt_schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let prompts: Vec<Vec<u32>> = ["040.csv", "050.csv"]
        .iter()
        .map(|r| {
            chat(
                &tok,
                &format!("Extract this receipt as JSON.\n\n{}", receipt_text(r)),
            )
        })
        .collect();
    let mut constraints: Vec<_> = prompts
        .iter()
        .map(|_| grammars.json_schema(&schema).unwrap())
        .collect();
    // 40 tokens in all, the last 24 spent closing what is open.
    let config = GenerationConfig {
        max_new_tokens: 40,
        closing_reserve: 24,
        temperature: 1.0,
        seed: 3,
        ..Default::default()
    };
    let outs = generate_batch(
        &model,
        &tok,
        &prompts,
        &config,
        &mut constraints,
        &device,
        |_, _, _| {},
    )
    .unwrap();
    for out in &outs {
        assert!(out.tokens.len() <= 40);
        let value: serde_json::Value =
            serde_json::from_str(&out.text).unwrap_or_else(|e| panic!("{e}: {}", out.text));
        assert!(validator.is_valid(&value), "{}", out.text);
    }
}

#[test]
fn a_regex_constraint_holds_and_bad_grammars_are_typed_errors() {
    let (model, tok, device) = load();
    let grammars = Grammars::new(&tok, model.config().vocab_size).unwrap();
    let mut phone = grammars.regex(r"\+63 9[0-9]{2} [0-9]{3} [0-9]{4}").unwrap();
    let prompt = chat(&tok, "Write a Philippine mobile number.");
    let config = GenerationConfig {
        max_new_tokens: 40,
        temperature: 1.0,
        ..Default::default()
    };
    let out = generate_constrained(
        &model,
        &tok,
        &prompt,
        &config,
        &mut phone,
        &device,
        |_, _| {},
    )
    .unwrap();
    let digits: Vec<char> = out.text.chars().filter(char::is_ascii_digit).collect();
    assert!(out.text.starts_with("+63 9"), "{}", out.text);
    assert_eq!(digits.len(), 12, "{}", out.text);

    assert!(matches!(
        grammars.json_schema(&serde_json::json!({"type": "no-such-type"})),
        Err(Error::Grammar { .. })
    ));
    assert!(matches!(
        grammars.lark("start: (("),
        Err(Error::Grammar { .. })
    ));
}

#[test]
fn an_extraction_cut_short_parses_and_cites_only_lines_the_page_has() {
    let (model, tok, device) = load();
    let grammars = Grammars::new(&tok, model.config().vocab_size).unwrap();
    let fonts = whet_synth_docs::FontSet::system().unwrap();
    let config = whet_synth_docs::GeneratorConfig::philippine_receipts();
    let set = whet_vlm_lora::ExtractionSet::synthetic(4, 1, &config, &fonts).unwrap();
    let doc = &set.docs[0];
    let check = whet_vlm_lora::ExtractConfig {
        max_new_tokens: 260,
        closing_reserve: 200,
        ..Default::default()
    };
    // The base model, untrained for this: whatever it writes must parse, and every value
    // be printed on the real lines it cites (the grounded grammar allows nothing else).
    let x = whet_vlm_lora::extract(
        &model,
        &tok,
        &grammars,
        &doc.page,
        doc.document.kind,
        &check,
        &device,
    )
    .unwrap();
    assert!(!x.values.is_empty(), "{}", x.raw);
    let answer: serde_json::Value = serde_json::from_str(&x.raw).unwrap();
    for v in whet_vlm_lora::grounded_values(&answer) {
        assert!(
            v.lines.iter().all(|&l| l < doc.page.lines.len()),
            "{}",
            x.raw
        );
    }
    for v in &x.values {
        assert!((0.0..=1.0).contains(&v.confidence));
        assert!(
            !v.flags.iter().any(|f| matches!(
                f,
                whet_vlm_lora::Flag::NotOnPage
                    | whet_vlm_lora::Flag::Regrounded
                    | whet_vlm_lora::Flag::BadLine
            )),
            "{v:?}"
        );
    }
}
