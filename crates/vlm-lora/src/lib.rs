//! # whet-vlm-lora
//!
//! LoRA supervised fine-tuning of small language and vision-language models
//! (Llama-family decoders such as SmolLM2, SigLIP-style vision towers) for structured JSON
//! extraction: completion-only loss, PEFT-format adapters, merging and int8 inference.
//!
//! **Status: planned.** Not yet implemented; this crate exports nothing yet.

// This crate is filled in by a later issue; until then it deliberately exports nothing.
