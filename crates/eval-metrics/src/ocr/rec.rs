//! Text recognition accuracy: PaddleOCR's `RecMetric` (`ppocr/metrics/rec_metric.py`).

use serde::{Deserialize, Serialize};

use crate::text::normalized_distance;

/// How predictions and labels are compared (PaddleOCR's `RecMetric` arguments).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecOptions {
    /// Remove every space (U+0020) from both sides first (PaddleOCR's default: true).
    pub ignore_space: bool,
    /// Keep only ASCII letters and digits and lower-case them (`is_filter`; default false).
    pub filter: bool,
}

impl Default for RecOptions {
    fn default() -> Self {
        RecOptions {
            ignore_space: true,
            filter: false,
        }
    }
}

/// Recognition results over a set of (prediction, label) pairs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RecReport {
    /// Pairs that match exactly (after the options' normalisation).
    pub correct: usize,
    /// Pairs in all.
    pub total: usize,
    /// Sum of the pairs' normalised Levenshtein distances (rapidfuzz
    /// `Levenshtein.normalized_distance`, over code points).
    pub ned_sum: f64,
    /// `correct / (total + 1e-5)`, as PaddleOCR computes it (the epsilon included, so a
    /// perfect score reads 0.99999... exactly as PaddleOCR prints it).
    pub acc: f64,
    /// `1 - ned_sum / (total + 1e-5)`.
    pub norm_edit_dis: f64,
}

impl RecReport {
    /// Accuracy without PaddleOCR's epsilon: `correct / total` (0 for no pairs).
    pub fn exact_accuracy(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.correct as f64 / self.total as f64
        }
    }
}

fn normalise(text: &str, options: RecOptions) -> Vec<char> {
    text.chars()
        .filter(|&c| !(options.ignore_space && c == ' '))
        .filter(|c| !options.filter || c.is_ascii_alphanumeric())
        .map(|c| {
            if options.filter {
                c.to_ascii_lowercase()
            } else {
                c
            }
        })
        .collect()
}

/// Recognition accuracy and normalised edit distance of `(prediction, label)` pairs.
///
/// ```
/// use whet_eval_metrics::ocr::{recognition, RecOptions};
/// let r = recognition([("TOTAL", "TOTAL"), ("SUKL1", "SUKLI")], RecOptions::default());
/// assert_eq!((r.correct, r.total), (1, 2));
/// assert!((r.ned_sum - 0.2).abs() < 1e-12);
/// ```
pub fn recognition<P: AsRef<str>, L: AsRef<str>>(
    pairs: impl IntoIterator<Item = (P, L)>,
    options: RecOptions,
) -> RecReport {
    let (mut correct, mut total, mut ned_sum) = (0usize, 0usize, 0.0f64);
    for (pred, label) in pairs {
        let p = normalise(pred.as_ref(), options);
        let t = normalise(label.as_ref(), options);
        ned_sum += normalized_distance(&p, &t);
        if p == t {
            correct += 1;
        }
        total += 1;
    }
    RecReport {
        correct,
        total,
        ned_sum,
        acc: correct as f64 / (total as f64 + 1e-5),
        norm_edit_dis: 1.0 - ned_sum / (total as f64 + 1e-5),
    }
}

impl std::fmt::Display for RecReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "accuracy {:.4}  norm_edit_dis {:.4}  ({} of {} exact)",
            self.acc, self.norm_edit_dis, self.correct, self.total
        )
    }
}
