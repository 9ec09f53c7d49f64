//! ANLS, average normalised Levenshtein similarity (Biten et al. 2019), as the `anls`
//! package computes it (`anls/metrics/score.py`, `dist.py`).

use crate::text::{distance, py_is_whitespace};

/// `" ".join(s.strip().lower().split())` as characters; shared with ANLS*.
pub(super) fn normalise(s: &str) -> Vec<char> {
    // " ".join(s.strip().lower().split())
    s.to_lowercase()
        .split(py_is_whitespace)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .collect()
}

/// The similarity of one prediction to its best gold answer: `1 - NL` when the
/// normalised Levenshtein distance `NL` is below `threshold` (0.5 by convention), else 0.
/// Case and surrounding whitespace are ignored, runs of whitespace count as one space.
/// `None` when there are no gold answers.
///
/// ```
/// use whet_eval_metrics::extraction::anls_score;
/// assert_eq!(anls_score("TOTAL ", &["total"], 0.5), Some(1.0));
/// assert_eq!(anls_score("totl", &["total", "vat"], 0.5), Some(0.8));
/// assert_eq!(anls_score("xyz", &["total"], 0.5), Some(0.0));
/// ```
pub fn anls_score<G: AsRef<str>>(prediction: &str, gold: &[G], threshold: f64) -> Option<f64> {
    let p = normalise(prediction);
    gold.iter()
        .map(|g| {
            let t = normalise(g.as_ref());
            // The package measures lengths of the upper-cased strings.
            let upper = |v: &[char]| v.iter().collect::<String>().to_uppercase().chars().count();
            let length = upper(&p).max(upper(&t));
            let nl = if length == 0 {
                0.0
            } else {
                distance(&p, &t) as f64 / length as f64
            };
            if nl < threshold { 1.0 - nl } else { 0.0 }
        })
        .reduce(f64::max)
}

/// Mean ANLS over questions, each a prediction and its gold answers; questions without
/// gold answers are skipped. `None` when none is left.
pub fn anls<P: AsRef<str>, G: AsRef<str>>(items: &[(P, Vec<G>)], threshold: f64) -> Option<f64> {
    let scores: Vec<f64> = items
        .iter()
        .filter_map(|(p, g)| anls_score(p.as_ref(), g, threshold))
        .collect();
    (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64)
}
