//! # whet-whisper-ft
//!
//! Whisper in burn: audio loading and resampling, the exact log-mel front end, the model,
//! decoding, fine-tuning, and WER through whet-eval-metrics.
//!
//! **Status: planned.** Not yet implemented; this crate exports nothing yet.

// This crate is filled in by a later issue; until then it deliberately exports nothing.
