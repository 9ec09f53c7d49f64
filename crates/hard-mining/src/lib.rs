//! # whet-hard-mining
//!
//! Learning from failures: an error taxonomy for extraction, failure analysis, model-side
//! mining, a durable low-confidence review queue, corrections collection, synthesis plans
//! for whet-synth-docs and replay mixes.
//!
//! **Status: planned.** Not yet implemented; this crate exports nothing yet.

// This crate is filled in by a later issue; until then it deliberately exports nothing.
