//! # whet-hard-mining
//!
//! Learning from failures: an error taxonomy for extraction, failure analysis, model-side
//! mining, a durable low-confidence review queue, corrections collection, synthesis plans
//! for whet-synth-docs and replay mixes.
//!
//! - [`taxonomy`]: each field of a predicted document classified ([`taxonomy::ErrorKind`]:
//!   missing, spurious, wrong, format, OCR confusion, inconsistency, table rows, low
//!   confidence) with its provenance ([`taxonomy::ErrorRecord`]).
//! - [`analysis`]: errors aggregated by type, field, document type, region and synth-docs
//!   feature, with the denominators for rates.
//! - [`plan`]: a synth-docs `SynthesisPlan` that asks more often for the features that fail.
//! - [`replay`]: a deterministic mix of normal and hard samples (80/20 by default).
//! - [`mining`]: top-k by loss (OHEM), least confident, character confusion matrix.
//! - [`queue`]: the durable review queue ([`queue::ReviewStore`]; SQLite by default),
//!   corrections as weighted training samples with provenance, correction rates.
//! - [`corrections`]: reviewed fields as whole examples, exported as OpenAI chat JSONL or
//!   Whetstone instruction pairs, and imported from both.
//! - [`label_issues`]: confident learning with cleanlab's semantics (self-confidence,
//!   `prune_by_noise_rate`).
//!
//! This crate runs no tensors and does not depend on burn.

pub mod analysis;
pub mod corrections;
mod error;
pub mod label_issues;
pub mod mining;
pub mod plan;
pub mod queue;
pub mod replay;
pub mod taxonomy;

pub use error::{Error, Result};
