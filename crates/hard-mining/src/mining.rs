//! Model-side mining: the samples a model finds hardest (OHEM-style top-k by loss, or the
//! least confident), and the character confusion matrix of a recognizer.
//!
//! ```
//! use whet_hard_mining::mining::{CharConfusion, Edit, top_k_by_loss};
//! assert_eq!(top_k_by_loss(&[0.1, 2.0, 0.5, 2.0], 2), vec![1, 3]);
//! let mut m = CharConfusion::default();
//! m.add("TOTAL 100.00", "T0TAL 1OO.OO");
//! m.add("RM 5.90", "RN 5.90");
//! assert_eq!(m.top(2), vec![(Edit::Substitute('0', 'O'), 4), (Edit::Substitute('M', 'N'), 1)]);
//! assert_eq!(m.counts[&Edit::Substitute('O', '0')], 1);
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use whet_eval_metrics::text::{EditKind, editops};

/// The indices of the `k` largest losses, largest first (ties: lower index first; NaN
/// counts as largest: a diverging sample is the first to look at).
pub fn top_k_by_loss(losses: &[f64], k: usize) -> Vec<usize> {
    let key = |v: f64| if v.is_nan() { f64::INFINITY } else { v };
    let mut order: Vec<usize> = (0..losses.len()).collect();
    order.sort_by(|&a, &b| key(losses[b]).total_cmp(&key(losses[a])).then(a.cmp(&b)));
    order.truncate(k);
    order
}

/// The indices of the `k` lowest confidences, lowest first (ties: lower index first).
pub fn least_confident(confidences: &[f64], k: usize) -> Vec<usize> {
    let key = |v: f64| if v.is_nan() { f64::NEG_INFINITY } else { v };
    let mut order: Vec<usize> = (0..confidences.len()).collect();
    order.sort_by(|&a, &b| {
        key(confidences[a])
            .total_cmp(&key(confidences[b]))
            .then(a.cmp(&b))
    });
    order.truncate(k);
    order
}

/// One character edit from the truth to the prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Edit {
    /// The true character read as another: `(true, read)`.
    Substitute(char, char),
    /// A true character not read.
    Delete(char),
    /// A character read that is not there.
    Insert(char),
}

/// Character confusions of a recognizer: every edit of a minimal (Levenshtein) alignment
/// of each prediction to its truth, counted, the alignment rapidfuzz's
/// `Levenshtein.editops` returns (through whet-eval-metrics, which matches it): `RN` for
/// `RM` is `M -> N`, one substitution, not a deletion and an insertion.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CharConfusion {
    /// Edit -> how often it occurred.
    pub counts: BTreeMap<Edit, usize>,
    /// Characters of truth seen, per character (the denominators of rates).
    pub seen: BTreeMap<char, usize>,
}

impl CharConfusion {
    /// Adds one (truth, prediction) pair: the edits of the alignment eval-metrics'
    /// `editops` gives (rapidfuzz's `Levenshtein.editops`, over characters).
    pub fn add(&mut self, truth: &str, predicted: &str) {
        let t: Vec<char> = truth.chars().collect();
        let p: Vec<char> = predicted.chars().collect();
        for &c in &t {
            *self.seen.entry(c).or_default() += 1;
        }
        for op in editops(&t, &p) {
            let edit = match op.kind {
                EditKind::Replace => Edit::Substitute(t[op.src], p[op.dest]),
                EditKind::Delete => Edit::Delete(t[op.src]),
                EditKind::Insert => Edit::Insert(p[op.dest]),
            };
            *self.counts.entry(edit).or_default() += 1;
        }
    }

    /// The `n` most frequent edits, most frequent first (ties in edit order).
    pub fn top(&self, n: usize) -> Vec<(Edit, usize)> {
        let mut v: Vec<(Edit, usize)> = self.counts.iter().map(|(e, c)| (*e, *c)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }

    /// How often the true character `c` was read as `read`, per occurrence of `c`.
    pub fn rate(&self, c: char, read: char) -> f64 {
        let n = self.seen.get(&c).copied().unwrap_or(0);
        let k = self
            .counts
            .get(&Edit::Substitute(c, read))
            .copied()
            .unwrap_or(0);
        k as f64 / n.max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranking_breaks_ties_by_index_and_puts_nan_first() {
        assert_eq!(top_k_by_loss(&[1.0, f64::NAN, 3.0, 3.0], 3), vec![1, 2, 3]);
        assert_eq!(least_confident(&[0.9, 0.2, 0.2, 0.5], 2), vec![1, 2]);
        assert_eq!(top_k_by_loss(&[1.0], 5), vec![0]);
    }

    #[test]
    fn alignments_count_deletions_insertions_and_substitutions() {
        let mut m = CharConfusion::default();
        m.add("RICE@PERMAS", "RICEPERMAS");
        m.add("QY", "QTY");
        m.add("AMT", "ANT");
        assert_eq!(m.counts[&Edit::Delete('@')], 1);
        assert_eq!(m.counts[&Edit::Insert('T')], 1);
        assert_eq!(m.counts[&Edit::Substitute('M', 'N')], 1);
        assert_eq!(m.counts.values().sum::<usize>(), 3);
        assert!((m.rate('M', 'N') - 0.5).abs() < 1e-12); // two Ms seen
    }
}
