//! # whet-hard-mining
//!
//! Learning from failures: an error taxonomy for extraction, failure analysis, model-side
//! mining, a durable low-confidence review queue, corrections collection, synthesis plans
//! for whet-synth-docs and replay mixes.
//!
//! - [`taxonomy`]: each field of a predicted document classified ([`taxonomy::ErrorKind`]:
//!   missing, spurious, wrong, format, OCR confusion, inconsistency, table rows, low
//!   confidence) with its provenance ([`taxonomy::ErrorRecord`]).
//! - [`label_issues`]: confident learning with cleanlab's semantics (self-confidence,
//!   `prune_by_noise_rate`).
//!
//! This crate runs no tensors and does not depend on burn.

mod error;
pub mod label_issues;
pub mod taxonomy;

pub use error::{Error, Result};
