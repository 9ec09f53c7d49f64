//! ANLS\* (Peer et al. 2024), the ANLS of whole structured answers: strings, numbers,
//! `None`, lists (matched by the Hungarian algorithm), dictionaries and 1-of-n
//! alternatives, as the official `anls_star` package (1.0.1) scores them.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::anls::normalise;
use super::munkres::maximise;
use crate::error::{Error, Result};
use crate::pyfmt::float_repr;
use crate::text::distance;

/// A value to score: Python's objects as ANLS\* sees them.
///
/// Build ground truth and predictions from JSON with [`AnlsValue::from_json`] (which keeps
/// the documents' key order); [`AnlsValue::Tuple`] holds alternative ground truths (any one
/// of them is a correct answer), which JSON cannot express.
#[derive(Debug, Clone, PartialEq)]
pub enum AnlsValue {
    /// `None`: the question has no answer.
    None,
    /// A boolean leaf (`str` gives `True` / `False`).
    Bool(bool),
    /// An integer leaf.
    Int(i64),
    /// A float leaf (compared through its Python text, `1.0`).
    Float(f64),
    /// A string leaf.
    Str(String),
    /// A list: items matched one to one, order ignored.
    List(Vec<AnlsValue>),
    /// A dictionary, in key order.
    Dict(Vec<(String, AnlsValue)>),
    /// Ground truth only: alternatives, the best-matching one counts.
    Tuple(Vec<AnlsValue>),
}

impl AnlsValue {
    /// Parses JSON text, keeping object key order (it decides the order in which ANLS\*
    /// adds up scores). An object `{"__tuple__": [...]}` stands for a tuple of
    /// alternatives.
    ///
    /// # Errors
    /// The JSON parser's error.
    pub fn from_json(text: &str) -> std::result::Result<AnlsValue, serde_json::Error> {
        serde_json::from_str(text)
    }

    fn is_none_like(&self) -> bool {
        // isinstance(value, ANLSNone) or value in (None, {}, [], "")
        match self {
            AnlsValue::None => true,
            AnlsValue::Dict(d) => d.is_empty(),
            AnlsValue::List(l) => l.is_empty(),
            AnlsValue::Str(s) => s.is_empty(),
            _ => false,
        }
    }

    fn number(&self) -> Option<f64> {
        match self {
            AnlsValue::Bool(b) => Some(f64::from(u8::from(*b))),
            AnlsValue::Int(i) => Some(*i as f64),
            AnlsValue::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// Python's `==` (`1 == 1.0 == True`, lists and tuples never equal).
    fn py_eq(&self, other: &AnlsValue) -> bool {
        use AnlsValue as V;
        match (self, other) {
            (V::None, V::None) => true,
            (V::Str(a), V::Str(b)) => a == b,
            (V::List(a), V::List(b)) | (V::Tuple(a), V::Tuple(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.py_eq(y))
            }
            (V::Dict(a), V::Dict(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, v)| b.iter().any(|(k2, v2)| k == k2 && v.py_eq(v2)))
            }
            (V::Int(a), V::Int(b)) => a == b,
            (a, b) => match (a.number(), b.number()) {
                (Some(x), Some(y)) => x == y,
                _ => false,
            },
        }
    }

    fn leaf_text(&self) -> Option<String> {
        Some(match self {
            AnlsValue::Bool(b) => if *b { "True" } else { "False" }.to_owned(),
            AnlsValue::Int(i) => i.to_string(),
            AnlsValue::Float(f) => float_repr(*f),
            AnlsValue::Str(s) => s.clone(),
            _ => return None,
        })
    }

    /// `len(tree)`.
    fn size(&self) -> usize {
        match self {
            AnlsValue::List(l) => l.iter().map(AnlsValue::size).sum(),
            AnlsValue::Dict(d) => d.iter().map(|(_, v)| v.size()).sum(),
            AnlsValue::Tuple(t) => t.iter().map(AnlsValue::size).max().unwrap_or(0),
            _ => 1,
        }
    }

    fn get(&self, key: &str) -> Option<&AnlsValue> {
        match self {
            AnlsValue::Dict(d) => d.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

const THRESHOLD: f64 = 0.5;
static NONE: AnlsValue = AnlsValue::None;

fn average(nls: &[f64], length: usize) -> f64 {
    if length > 0 {
        nls.iter().sum::<f64>() / length as f64
    } else {
        1.0
    }
}

/// `(nls_list, chosen ground truth)` of ground truth `gt` against prediction `pred`.
fn nls_list(gt: &AnlsValue, pred: &AnlsValue) -> (Vec<f64>, AnlsValue) {
    use AnlsValue as V;
    match gt {
        V::None => {
            if pred.is_none_like() {
                (vec![1.0], pred.clone())
            } else {
                (vec![0.0], V::None)
            }
        }
        V::Tuple(options) => {
            let (nls, _, chosen) = choose_best(options, pred);
            (nls, chosen)
        }
        V::List(items) => match pred {
            V::List(preds) => {
                let (mat, gts, indexes) = hungarian(items, preds);
                let mut values = Vec::new();
                for &(r, c) in &indexes {
                    values.extend_from_slice(&mat[r][c]);
                }
                let mut chosen: Vec<(AnlsValue, usize)> = indexes
                    .iter()
                    .map(|&(r, c)| (gts[r][c].clone(), c))
                    .collect();
                chosen.sort_by_key(|&(_, c)| c);
                let mut chosen: Vec<AnlsValue> = chosen.into_iter().map(|(g, _)| g).collect();
                chosen.extend(
                    (0..items.len())
                        .filter(|i| !indexes.iter().any(|&(r, _)| r == *i))
                        .map(|i| items[i].clone()),
                );
                (values, V::List(chosen))
            }
            _ => (vec![0.0], gt.clone()),
        },
        V::Dict(entries) => match pred {
            V::Dict(pred_entries) => {
                let mut nlss = Vec::new();
                let mut chosen_gts: Vec<(String, AnlsValue)> = Vec::new();
                let keys = entries.iter().map(|(k, _)| k).chain(
                    pred_entries
                        .iter()
                        .map(|(k, _)| k)
                        .filter(|k| gt.get(k).is_none()),
                );
                for k in keys {
                    let self_value = gt.get(k).unwrap_or(&NONE);
                    let other_value = pred.get(k).unwrap_or(&NONE);
                    let hallucinated_none =
                        gt.get(k).is_none() && pred.get(k).is_some() && other_value.is_none_like();
                    if hallucinated_none {
                        continue;
                    }
                    let (nls, chosen) = nls_list(self_value, other_value);
                    nlss.extend(nls);
                    let closest_is_no_key = chosen.is_none_like() && pred.get(k).is_none();
                    if !closest_is_no_key {
                        chosen_gts.push((k.clone(), chosen));
                    }
                }
                (nlss, V::Dict(chosen_gts))
            }
            _ => (vec![0.0], gt.clone()),
        },
        leaf => match (leaf.leaf_text(), pred.leaf_text()) {
            (Some(a), Some(b)) => {
                let (a, b) = (normalise(&a), normalise(&b));
                let longest = a.len().max(b.len());
                let value = if longest == 0 {
                    0.0
                } else {
                    distance(&a, &b) as f64 / longest as f64
                };
                let mut result = 1.0 - value;
                if result < THRESHOLD {
                    result = 0.0;
                }
                (vec![result], leaf.clone())
            }
            _ => (vec![0.0], leaf.clone()),
        },
    }
}

/// `pairwise_len(gt, pred)`.
fn pairwise_len(gt: &AnlsValue, pred: &AnlsValue) -> usize {
    use AnlsValue as V;
    match (gt, pred) {
        (V::Tuple(options), _) => choose_best(options, pred).1,
        (V::List(items), V::List(preds)) => {
            let (_, _, indexes) = hungarian(items, preds);
            let mut total: usize = indexes
                .iter()
                .map(|&(r, c)| pairwise_len(&items[r], &preds[c]))
                .sum();
            total += (0..items.len())
                .filter(|i| !indexes.iter().any(|&(r, _)| r == *i))
                .map(|i| items[i].size())
                .sum::<usize>();
            total += (0..preds.len())
                .filter(|j| !indexes.iter().any(|&(_, c)| c == *j))
                .map(|j| preds[j].size())
                .sum::<usize>();
            total
        }
        (V::Dict(entries), V::Dict(pred_entries)) => {
            let mut keys: Vec<&String> = entries.iter().map(|(k, _)| k).collect();
            keys.extend(
                pred_entries
                    .iter()
                    .map(|(k, _)| k)
                    .filter(|k| gt.get(k).is_none()),
            );
            keys.iter()
                .map(|k| pairwise_len(gt.get(k).unwrap_or(&NONE), pred.get(k).unwrap_or(&NONE)))
                .sum()
        }
        _ => gt.size().max(pred.size()),
    }
}

/// `ANLSTuple._choose_best_item`: the option with the best average (ties: one whose
/// chosen ground truth equals the prediction; then the first).
fn choose_best(options: &[AnlsValue], pred: &AnlsValue) -> (Vec<f64>, usize, AnlsValue) {
    type Candidate = ((f64, u8), Vec<f64>, usize, AnlsValue);
    let mut best: Option<Candidate> = None;
    for gt in options {
        let (nls, chosen) = nls_list(gt, pred);
        let length = pairwise_len(gt, pred);
        let key = (average(&nls, length), u8::from(chosen.py_eq(pred)));
        let better = match &best {
            None => true,
            Some((k, ..)) => key.0 > k.0 || (key.0 == k.0 && key.1 > k.1),
        };
        if better {
            best = Some((key, nls, length, chosen));
        }
    }
    match best {
        Some((_, nls, length, chosen)) => (nls, length, chosen),
        None => (Vec::new(), 0, AnlsValue::None),
    }
}

type Matrix<T> = Vec<Vec<T>>;

/// Pairwise scores, chosen ground truths, and the assignment of a list comparison.
type ListMatch = (Matrix<Vec<f64>>, Matrix<AnlsValue>, Vec<(usize, usize)>);

/// `ANLSList._hungarian`: pairwise scores, chosen ground truths, and the assignment.
fn hungarian(items: &[AnlsValue], preds: &[AnlsValue]) -> ListMatch {
    let mut mat = Vec::with_capacity(items.len());
    let mut avg = Vec::with_capacity(items.len());
    let mut gts = Vec::with_capacity(items.len());
    for gt in items {
        let mut row = Vec::with_capacity(preds.len());
        let mut avg_row = Vec::with_capacity(preds.len());
        let mut gts_row = Vec::with_capacity(preds.len());
        for pred in preds {
            let (nls, chosen) = nls_list(gt, pred);
            let length = pairwise_len(gt, pred);
            let mut a = average(&nls, length);
            if pred.py_eq(&chosen) {
                a = a.next_up();
            }
            row.push(nls);
            avg_row.push(a);
            gts_row.push(chosen);
        }
        mat.push(row);
        avg.push(avg_row);
        gts.push(gts_row);
    }
    if items.is_empty() || preds.is_empty() {
        return (mat, gts, Vec::new());
    }
    let indexes = maximise(&avg);
    (mat, gts, indexes)
}

/// The ANLS\* score of prediction `pred` against ground truth `gt`, in `[0, 1]`:
/// `anls_star.anls_score(gt, pred)`. A list of strings as ground truth for a string
/// prediction is read as alternatives (the classical ANLS question-answering case).
///
/// ```
/// use whet_eval_metrics::extraction::{anls_star, AnlsValue};
/// let gt = AnlsValue::from_json(r#"{"total": "₱1,250.00", "items": ["Kape", "Pandesal"]}"#).unwrap();
/// let pred = AnlsValue::from_json(r#"{"total": "₱1,250.00", "items": ["pandesal", "kape"]}"#).unwrap();
/// assert_eq!(anls_star(&gt, &pred)?, 1.0);
/// let none = AnlsValue::from_json(r#"{"total": null}"#).unwrap();
/// assert_eq!(anls_star(&none, &AnlsValue::from_json("{}").unwrap())?, 1.0);
/// # Ok::<(), whet_eval_metrics::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidValue`] for a tuple in the prediction (tuples are for alternative
/// ground truths) or a tuple of no alternatives, as the package refuses them.
pub fn anls_star(gt: &AnlsValue, pred: &AnlsValue) -> Result<f64> {
    let gt = match (gt, pred) {
        (AnlsValue::List(items), AnlsValue::Str(_))
            if items.iter().all(|i| matches!(i, AnlsValue::Str(_))) =>
        {
            AnlsValue::Tuple(items.clone())
        }
        _ => gt.clone(),
    };
    check_tree(&gt, true)?;
    check_tree(pred, false)?;
    let (nls, _) = nls_list(&gt, pred);
    Ok(average(&nls, pairwise_len(&gt, pred)))
}

fn check_tree(v: &AnlsValue, is_gt: bool) -> Result<()> {
    let invalid = |reason: &str| Error::InvalidValue {
        what: "anls_star",
        index: 0,
        reason: reason.to_owned(),
    };
    match v {
        AnlsValue::Tuple(_) if !is_gt => Err(invalid(
            "a tuple in the prediction (tuples are for alternative ground truths)",
        )),
        AnlsValue::Tuple(options) if options.is_empty() => {
            Err(invalid("a tuple of no alternatives in the ground truth"))
        }
        AnlsValue::Tuple(items) | AnlsValue::List(items) => {
            items.iter().try_for_each(|i| check_tree(i, is_gt))
        }
        AnlsValue::Dict(entries) => entries.iter().try_for_each(|(_, i)| check_tree(i, is_gt)),
        _ => Ok(()),
    }
}

impl<'de> Deserialize<'de> for AnlsValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AnlsValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> std::result::Result<AnlsValue, E> {
                Ok(AnlsValue::None)
            }
            fn visit_none<E>(self) -> std::result::Result<AnlsValue, E> {
                Ok(AnlsValue::None)
            }
            fn visit_bool<E>(self, b: bool) -> std::result::Result<AnlsValue, E> {
                Ok(AnlsValue::Bool(b))
            }
            fn visit_i64<E>(self, i: i64) -> std::result::Result<AnlsValue, E> {
                Ok(AnlsValue::Int(i))
            }
            fn visit_u64<E: de::Error>(self, u: u64) -> std::result::Result<AnlsValue, E> {
                i64::try_from(u)
                    .map(AnlsValue::Int)
                    .map_err(|_| E::custom("integer out of range"))
            }
            fn visit_f64<E>(self, f: f64) -> std::result::Result<AnlsValue, E> {
                Ok(AnlsValue::Float(f))
            }
            fn visit_str<E>(self, s: &str) -> std::result::Result<AnlsValue, E> {
                Ok(AnlsValue::Str(s.to_owned()))
            }
            fn visit_string<E>(self, s: String) -> std::result::Result<AnlsValue, E> {
                Ok(AnlsValue::Str(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<AnlsValue, A::Error> {
                let mut items = Vec::new();
                while let Some(v) = seq.next_element()? {
                    items.push(v);
                }
                Ok(AnlsValue::List(items))
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<AnlsValue, A::Error> {
                let mut entries: Vec<(String, AnlsValue)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, AnlsValue>()? {
                    match entries.iter_mut().find(|(key, _)| *key == k) {
                        Some(slot) => slot.1 = v, // the last duplicate wins, as in Python
                        None => entries.push((k, v)),
                    }
                }
                if let [(k, AnlsValue::List(options))] = entries.as_slice()
                    && k == "__tuple__"
                {
                    return Ok(AnlsValue::Tuple(options.clone()));
                }
                Ok(AnlsValue::Dict(entries))
            }
        }
        deserializer.deserialize_any(V)
    }
}
