//! # whet-ocr-det
//!
//! PaddleOCR-style OCR in burn: PP-OCRv4 DBNet text detection (PPLCNetV3 backbone,
//! RSE-FPN neck, DB head) and SVTR-LCNet CTC text recognition as ordinary trainable burn
//! modules, loaded from the real PP-OCR weights, with PaddleOCR's pre- and
//! post-processing and fine-tuning on your own documents through the whet-core Trainer.
//!
//! **Status: planned.** Not yet implemented; this crate exports nothing yet.

// This crate is filled in by a later issue; until then it deliberately exports nothing.
