//! # whet-vlm-lora
//!
//! Small language models you fine-tune on your own data with LoRA, for the structured
//! JSON extraction a rented large model did.
//!
//! - [`LlamaForCausalLM`]: a Llama-family decoder (RMSNorm, RoPE, grouped-query
//!   attention, SwiGLU, tied embeddings) as burn modules with Hugging Face's names, shaped
//!   by a [`LlamaConfig`] (`config.json`'s fields), loaded from a llama.cpp GGUF file
//!   ([`LlamaForCausalLM::from_gguf`]) with its weights kept in their GGUF blocks
//!   (multiplied as llama.cpp does, on the CPU) or decoded ([`Precision`]). Every projection is a `whet_core::lora::LoraLinear`, so
//!   PEFT and llama.cpp adapters attach by name (`whet_core::lora`).
//! - [`Tokenizer`]: the model's byte-level BPE rebuilt from the GGUF's tokens, merges and
//!   pre-tokeniser on the `tokenizers` crate (identical to llama.cpp's on 1,000 test
//!   strings), `tokenizer.json` written on request; the GGUF's chat template rendered as
//!   transformers renders it ([`Tokenizer::apply_chat_template`]).
//! - [`generate`]: KV-cache generation, greedy or sampled ([`GenerationConfig`]), stop
//!   tokens and strings, tokens streamed as they come; a batch of prompts at once
//!   ([`generate_batch`]).
//! - [`Grammars`]: schema- and grammar-constrained decoding with `llguidance` (JSON
//!   schema, Lark grammar, regex): the output always parses ([`generate_constrained`]).
//!
//! ```no_run
//! use whet_vlm_lora::{KvCache, LlamaForCausalLM, Precision};
//! let device = whet_core::DeviceSpec::from_env()?.device()?;
//! let model = LlamaForCausalLM::from_gguf("assets/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf", Precision::Packed, &device)?;
//! let mut cache = KvCache::new();
//! let logits = model.forward_last(&[vec![1, 9690, 198]], Some(&mut cache), &device)?; // [1, vocab]
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod attention;
mod config;
mod constrain;
mod corrections;
mod dataset;
mod error;
mod export;
mod extract;
mod generate;
mod ggml_ops;
mod gguf_load;
mod grounded_grammar;
mod hf_load;
mod kv_cache;
mod layout;
mod model;
mod pairs;
mod sft;
mod target;
mod tokenizer;

pub use attention::Attention;
pub use config::LlamaConfig;
pub use constrain::{Constraint, ConstraintStats, Grammars, JsonLayout, receipt_schema};
pub use corrections::{page_from_prompt, reground, reground_pair};
pub use dataset::{ExtractionDoc, ExtractionReport, ExtractionSet};
pub use error::{Error, Result};
pub use extract::{
    ExtractConfig, ExtractedValue, Extraction, Flag, check_answer, extract, extraction_prompt,
};
pub use generate::{
    Generation, GenerationConfig, StopReason, choose, generate, generate_batch,
    generate_constrained,
};
pub use gguf_load::{Precision, rope_rows};
pub use grounded_grammar::grounded_grammar;
pub use kv_cache::KvCache;
pub use layout::{DEFAULT_BUCKETS, OcrPage};
pub use model::{DecoderLayer, LayerParts, LlamaForCausalLM, Mlp, RmsNorm, TokenEmbedding};
pub use pairs::{
    FULL_QUESTION, InstructionPair, PairKind, instruction_pairs, read_chat_jsonl, user_message,
    write_chat_jsonl,
};
pub use sft::{
    IGNORE_INDEX, LLAMA_PROJECTIONS, SftBatch, SftConfig, SftExample, completion_loss, finetune,
    finetune_with,
};
pub use target::{
    DATE_PATTERN, GroundedValue, NUMBER_FIELDS, NUMBER_PATTERN, bound_lines, document_schema,
    field_order, grounded_target, grounded_value_schema, grounded_values, is_grounded_value,
    partial_schema, strip_grounding,
};
pub use tokenizer::{ChatMessage, Tokenizer};
