//! # whet-synth-docs
//!
//! Synthetic receipts, invoices and purchase orders (Philippine TIN and 12% VAT, English
//! and Tagalog, many layouts and currencies) rendered to images with perfect ground truth:
//! fields, word and line polygons, table structure and regions; augmentations; and
//! hard-sample synthesis from a `SynthesisPlan`.
//!
//! **Status: planned.** Not yet implemented; this crate exports nothing yet.

// This crate is filled in by a later issue; until then it deliberately exports nothing.
