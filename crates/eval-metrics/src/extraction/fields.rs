//! Field accuracy and per-document exact match for extracted key-value fields.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::normalize::{normalize_text, parse_amount, parse_date};
use crate::pyfmt::float_repr;

/// How a field's predicted value is compared with the true one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum FieldMatch {
    /// Byte-for-byte equal text.
    Exact,
    /// Equal after collapsing whitespace and lower-casing ([`normalize_text`]).
    #[default]
    Text,
    /// Equal amounts in minor units ([`parse_amount`]); falls back to `Text` when either
    /// side is not an amount.
    Amount,
    /// The same calendar date ([`parse_date`]); falls back to `Text` when either side is
    /// not a date.
    Date,
}

impl FieldMatch {
    /// Whether `pred` matches `truth` under this rule.
    pub fn matches(self, pred: &str, truth: &str) -> bool {
        match self {
            FieldMatch::Exact => pred == truth,
            FieldMatch::Text => normalize_text(pred) == normalize_text(truth),
            FieldMatch::Amount => match (parse_amount(pred), parse_amount(truth)) {
                (Some(a), Some(b)) => a == b,
                _ => FieldMatch::Text.matches(pred, truth),
            },
            FieldMatch::Date => match (parse_date(pred), parse_date(truth)) {
                (Some(a), Some(b)) => a == b,
                _ => FieldMatch::Text.matches(pred, truth),
            },
        }
    }
}

/// Counts for one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FieldCounts {
    /// Documents whose true value was matched.
    pub correct: usize,
    /// Documents with a true value for the field.
    pub total: usize,
    /// Documents with a predicted value but no true one.
    pub spurious: usize,
}

impl FieldCounts {
    /// `correct / total` (0 when there is no true value).
    pub fn accuracy(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.correct as f64 / self.total as f64
        }
    }
}

/// Field accuracy over a set of documents.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FieldReport {
    /// Per field, by name.
    pub fields: BTreeMap<String, FieldCounts>,
    /// Correct fields over all true fields (micro average).
    pub accuracy: f64,
    /// Documents whose every true field matched and that predicted no extra field.
    pub exact_documents: usize,
    /// Documents in all.
    pub documents: usize,
}

impl FieldReport {
    /// `exact_documents / documents`.
    pub fn exact_match_rate(&self) -> f64 {
        if self.documents == 0 {
            0.0
        } else {
            self.exact_documents as f64 / self.documents as f64
        }
    }
}

impl fmt::Display for FieldReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .fields
            .keys()
            .map(String::len)
            .chain([5])
            .max()
            .unwrap_or(5);
        writeln!(
            f,
            "{:<width$} {:>9} {:>7} {:>7} {:>8}",
            "field", "accuracy", "correct", "total", "spurious"
        )?;
        for (name, c) in &self.fields {
            writeln!(
                f,
                "{name:<width$} {:>9.4} {:>7} {:>7} {:>8}",
                c.accuracy(),
                c.correct,
                c.total,
                c.spurious
            )?;
        }
        writeln!(f, "{:<width$} {:>9.4}", "all", self.accuracy)?;
        write!(
            f,
            "exact documents: {} of {} ({:.4})",
            self.exact_documents,
            self.documents,
            self.exact_match_rate()
        )
    }
}

/// A scalar as text (`None` for null, objects and arrays, and empty strings).
fn scalar_text(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(u)) => u.to_string(),
            _ => float_repr(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!s.trim().is_empty()).then_some(s)
}

/// Field accuracy of `preds` against `truths` (parallel lists of JSON objects), comparing
/// the top-level scalar fields; `rules` names the comparison for a field (default
/// [`FieldMatch::Text`]). A missing or empty predicted value is wrong; a predicted value
/// for a field with no true value is counted as spurious and spoils the document's exact
/// match.
///
/// ```
/// use std::collections::HashMap;
/// use serde_json::json;
/// use whet_eval_metrics::extraction::{field_accuracy, FieldMatch};
/// let truth = [json!({"total": "₱1,250.00", "date": "2026-11-26", "store": "Sari-Sari"})];
/// let pred = [json!({"total": "1250", "date": "Nov 26, 2026", "store": "sari-sari "})];
/// let rules = HashMap::from([("total", FieldMatch::Amount), ("date", FieldMatch::Date)]);
/// let r = field_accuracy(&pred, &truth, &rules);
/// assert_eq!((r.accuracy, r.exact_documents), (1.0, 1));
/// ```
pub fn field_accuracy<S: AsRef<str> + std::hash::Hash + Eq>(
    preds: &[Value],
    truths: &[Value],
    rules: &std::collections::HashMap<S, FieldMatch>,
) -> FieldReport {
    let rule = |name: &str| {
        rules
            .iter()
            .find(|(k, _)| k.as_ref() == name)
            .map(|(_, m)| *m)
            .unwrap_or_default()
    };
    let empty = serde_json::Map::new();
    let mut report = FieldReport::default();
    for (pred, truth) in preds.iter().zip(truths) {
        report.documents += 1;
        let p = pred.as_object().unwrap_or(&empty);
        let t = truth.as_object().unwrap_or(&empty);
        let mut exact = true;
        for (name, tv) in t {
            let Some(tv) = scalar_text(tv) else { continue };
            let counts = report.fields.entry(name.clone()).or_default();
            counts.total += 1;
            let ok = p
                .get(name)
                .and_then(scalar_text)
                .is_some_and(|pv| rule(name).matches(&pv, &tv));
            if ok {
                counts.correct += 1;
            } else {
                exact = false;
            }
        }
        for (name, pv) in p {
            if scalar_text(pv).is_some() && t.get(name).and_then(scalar_text).is_none() {
                report.fields.entry(name.clone()).or_default().spurious += 1;
                exact = false;
            }
        }
        if exact {
            report.exact_documents += 1;
        }
    }
    let (correct, total) = report
        .fields
        .values()
        .fold((0, 0), |(c, t), f| (c + f.correct, t + f.total));
    report.accuracy = if total == 0 {
        0.0
    } else {
        correct as f64 / total as f64
    };
    report
}
