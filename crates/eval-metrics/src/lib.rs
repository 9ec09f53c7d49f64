//! # whet-eval-metrics
//!
//! The metrics the Whetstone loop needs, each reproducing a named reference
//! implementation exactly (checked against golden fixtures that the reference packages
//! produced; see `scripts/golden/eval-metrics.sh`):
//!
//! | module | metric | reference |
//! |---|---|---|
//! | [`text`] | Levenshtein alignment; WER, CER, MER, WIL, WIP | jiwer 4 over rapidfuzz |
//! | [`text`] | Whisper's English and basic text normalisers | openai-whisper `normalizers` |
//! | [`ocr`] | detection P/R/hmean (DB greedy, docTR Hungarian, per-image mean) | PaddleOCR `eval_det_iou.py`, docTR `LocalizationConfusion`, shapely |
//! | [`ocr`] | recognition accuracy, `norm_edit_dis` | PaddleOCR `RecMetric` |
//! | [`extraction`] | Donut field F1 and tree-edit accuracy | donut-python `JSONParseEvaluator` over zss |
//! | [`extraction`] | ANLS, ANLS* | `anls`, `anls_star` |
//! | [`extraction`] | field accuracy (text, amount, date), exact match, numeric consistency | Whetstone's documented rules |
//! | [`table`] | TEDS, structure-only TEDS; forgiving HTML table parser | PubTabNet `metric.py` (APTED, lxml) |
//! | [`classification`] | per-class P/R/F1, averages, confusion matrix, Brier, ECE | scikit-learn |
//!
//! ```
//! use whet_eval_metrics::text::process_words;
//!
//! let out = process_words(&["kabuuan halaga 1,250.00"], &["kabuuan halga 1,250.00"])?;
//! assert_eq!(out.counts.substitutions, 1);
//! assert!((out.wer - 1.0 / 3.0).abs() < 1e-12);
//! # Ok::<(), whet_eval_metrics::Error>(())
//! ```
//!
//! This crate runs no tensors and does not depend on burn.

pub mod classification;
mod error;
pub mod extraction;
pub mod numpy;
pub mod ocr;
mod pyfmt;
pub mod table;
pub mod text;

pub use error::{Error, Result};
