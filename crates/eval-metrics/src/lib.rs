//! # whet-eval-metrics
//!
//! Every metric the Whetstone loop needs, each reproducing a named reference implementation
//! exactly: WER/CER (jiwer), Whisper text normalisers, OCR detection P/R/hmean (PaddleOCR,
//! docTR), recognition accuracy, field accuracy and F1 (Donut), ANLS, TEDS (PubTabNet),
//! numeric consistency of financial documents, classification reports (scikit-learn).
//!
//! **Status: planned.** Not yet implemented; this crate exports nothing yet.

// This crate is filled in by a later issue; until then it deliberately exports nothing.
