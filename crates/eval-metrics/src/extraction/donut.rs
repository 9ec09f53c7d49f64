//! Donut's field F1 and tree-edit-distance accuracy (`clovaai/donut`, `donut/util.py`,
//! `JSONParseEvaluator`), on JSON values.
//!
//! Both first normalise the JSON as Donut does: keys sorted by (length, key); empty and
//! false-y values (`""`, `0`, `[]`, `{}`, `null`, `false`) dropped; scalars turned into
//! stripped strings (numbers as Python prints them: `1.0`, `1e+16`); every value a list.

use serde_json::Value;

use super::tree_edit::{EditCosts, TreeNode, tree_edit_distance};
use crate::pyfmt::float_repr;
use crate::text::{distance, py_is_whitespace};

/// A JSON value after Donut's `normalize_dict`: objects map to lists of values; leaves
/// are non-empty strings.
#[derive(Debug, Clone, PartialEq)]
enum Norm {
    Dict(Vec<(String, Vec<Norm>)>),
    Leaf(String),
}

fn py_str_scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(u)) => u.to_string(),
            _ => float_repr(n.as_f64().unwrap_or(f64::NAN)),
        }),
        Value::Bool(b) => Some(if *b { "True" } else { "False" }.to_owned()),
        _ => None,
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn strip(s: &str) -> String {
    s.trim_matches(py_is_whitespace).to_owned()
}

/// `normalize_dict`: `None` stands for Python's `{}` returned for false-y input.
fn normalize(v: &Value) -> NormOut {
    if !truthy(v) {
        return NormOut::Empty;
    }
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| {
                (a.chars().count(), a.as_str()).cmp(&(b.chars().count(), b.as_str()))
            });
            let mut out = Vec::new();
            for k in keys {
                let values = match normalize(&map[k.as_str()]) {
                    NormOut::Empty => continue,
                    NormOut::List(l) if l.is_empty() => continue,
                    NormOut::List(l) => l,
                    NormOut::One(n) => vec![n],
                };
                out.push((k.clone(), values));
            }
            if out.is_empty() {
                NormOut::Empty
            } else {
                NormOut::One(Norm::Dict(out))
            }
        }
        Value::Array(items) => {
            if items.iter().all(Value::is_object) {
                NormOut::List(
                    items
                        .iter()
                        .filter_map(|item| match normalize(item) {
                            NormOut::One(n) => Some(n),
                            _ => None,
                        })
                        .collect(),
                )
            } else {
                NormOut::List(
                    items
                        .iter()
                        .filter(|i| matches!(i, Value::String(_) | Value::Number(_)))
                        .filter_map(py_str_scalar)
                        .map(|s| strip(&s))
                        .filter(|s| !s.is_empty())
                        .map(Norm::Leaf)
                        .collect(),
                )
            }
        }
        other => NormOut::List(vec![Norm::Leaf(strip(
            &py_str_scalar(other).unwrap_or_default(),
        ))]),
    }
}

enum NormOut {
    /// Python's `{}` (from the false-y shortcut or an object left empty).
    Empty,
    /// A non-list result (a normalised object).
    One(Norm),
    /// A list result.
    List(Vec<Norm>),
}

fn flatten_into(key: &str, values: &[Norm], out: &mut Vec<(String, String)>) {
    for v in values {
        match v {
            Norm::Leaf(s) => out.push((key.to_owned(), s.clone())),
            Norm::Dict(d) => flatten_dict(key, d, out),
        }
    }
}

fn flatten_dict(prefix: &str, d: &[(String, Vec<Norm>)], out: &mut Vec<(String, String)>) {
    for (k, values) in d {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        flatten_into(&key, values, out);
    }
}

/// Donut's flattened `(key path, value)` pairs of a JSON document, after normalisation.
///
/// ```
/// use whet_eval_metrics::extraction::donut_flatten;
/// let doc = serde_json::json!({"menu": [{"nm": "Kape", "cnt": 2}], "total": "120.00"});
/// assert_eq!(donut_flatten(&doc), [
///     ("menu.nm".to_string(), "Kape".to_string()),
///     ("menu.cnt".to_string(), "2".to_string()),
///     ("total".to_string(), "120.00".to_string()),
/// ]);
/// ```
pub fn donut_flatten(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    match normalize(doc) {
        NormOut::Empty => {}
        NormOut::One(Norm::Dict(d)) => flatten_dict("", &d, &mut out),
        NormOut::One(leaf @ Norm::Leaf(_)) => flatten_into("", &[leaf], &mut out),
        NormOut::List(l) => flatten_into("", &l, &mut out),
    }
    out
}

/// Donut's field-level F1, micro-averaged over documents.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DonutF1 {
    /// Predicted `(key, value)` pairs found in the answer (each answer pair used once).
    pub true_positives: usize,
    /// Unmatched predicted pairs plus unmatched answer pairs.
    pub false_pos_or_neg: usize,
    /// `tp / (tp + (fp + fn) / 2)`; `None` when there are no pairs at all (Donut divides
    /// by zero there).
    pub f1: Option<f64>,
}

/// `JSONParseEvaluator.cal_f1(preds, answers)`.
pub fn donut_f1(preds: &[Value], answers: &[Value]) -> DonutF1 {
    let (mut tp, mut fnfp) = (0usize, 0usize);
    for (pred, answer) in preds.iter().zip(answers) {
        let pred = donut_flatten(pred);
        let mut answer = donut_flatten(answer);
        for field in &pred {
            if let Some(pos) = answer.iter().position(|a| a == field) {
                tp += 1;
                answer.remove(pos);
            } else {
                fnfp += 1;
            }
        }
        fnfp += answer.len();
    }
    let denom = tp as f64 + fnfp as f64 / 2.0;
    DonutF1 {
        true_positives: tp,
        false_pos_or_neg: fnfp,
        f1: (denom != 0.0).then(|| tp as f64 / denom),
    }
}

/// Node labels of Donut's tree: `<root>`, keys, `<subtree>`, and `<leaf>value`.
struct DonutCosts;

const LEAF: &str = "<leaf>";

fn leaf_text(label: &str) -> Option<Vec<char>> {
    label
        .contains(LEAF)
        .then(|| label.replace(LEAF, "").chars().collect())
}

impl EditCosts<String> for DonutCosts {
    fn insert(&self, node: &String) -> f64 {
        leaf_text(node).map_or(1.0, |t| t.len() as f64)
    }
    fn delete(&self, node: &String) -> f64 {
        self.insert(node)
    }
    fn rename(&self, a: &String, b: &String) -> f64 {
        match (leaf_text(a), leaf_text(b)) {
            (Some(x), Some(y)) => distance(&x, &y) as f64,
            (None, Some(y)) => 1.0 + y.len() as f64,
            (Some(x), None) => 1.0 + x.len() as f64,
            (None, None) => f64::from(u8::from(a != b)),
        }
    }
}

fn tree_of(name: String, values: &[Norm]) -> TreeNode<String> {
    let children = if values.iter().all(|v| matches!(v, Norm::Dict(_))) {
        values
            .iter()
            .map(|v| match v {
                Norm::Dict(d) => dict_tree("<subtree>".into(), d),
                Norm::Leaf(_) => unreachable!("checked above"),
            })
            .collect()
    } else {
        values
            .iter()
            .map(|v| match v {
                Norm::Leaf(s) => TreeNode::leaf(format!("{LEAF}{s}")),
                // Python formats a dict inside a mixed list with `f"<leaf>{item}"`; a
                // normalised list is never mixed, so this does not occur.
                Norm::Dict(_) => TreeNode::leaf(LEAF.to_owned()),
            })
            .collect()
    };
    TreeNode::new(name, children)
}

fn dict_tree(name: String, d: &[(String, Vec<Norm>)]) -> TreeNode<String> {
    TreeNode::new(name, d.iter().map(|(k, v)| tree_of(k.clone(), v)).collect())
}

/// Donut's tree of a JSON document (after normalisation).
pub fn donut_tree(doc: &Value) -> TreeNode<String> {
    match normalize(doc) {
        NormOut::Empty => TreeNode::leaf("<root>".into()),
        NormOut::One(Norm::Dict(d)) => dict_tree("<root>".into(), &d),
        NormOut::One(leaf @ Norm::Leaf(_)) => tree_of("<root>".into(), &[leaf]),
        NormOut::List(l) => tree_of("<root>".into(), &l),
    }
}

/// Donut's tree-edit-distance accuracy of one prediction:
/// `max(0, 1 - TED(pred, answer) / TED(empty, answer))` (`cal_acc`). An answer that
/// normalises to nothing scores 0 whatever the prediction, as in Donut (whose numpy
/// division gives NaN or infinity there, which `max(0, ...)` turns into 0).
///
/// ```
/// use whet_eval_metrics::extraction::donut_ted_accuracy;
/// let answer = serde_json::json!({"total": "120.00"});
/// assert_eq!(donut_ted_accuracy(&answer, &answer), 1.0);
/// let wrong = serde_json::json!({"total": "126.00"});
/// // One character of seven (one node plus six characters) is wrong.
/// assert_eq!(donut_ted_accuracy(&wrong, &answer), 1.0 - 1.0 / 7.0);
/// ```
pub fn donut_ted_accuracy(pred: &Value, answer: &Value) -> f64 {
    let p = donut_tree(pred);
    let a = donut_tree(answer);
    let empty = TreeNode::leaf("<root>".to_owned());
    let base = tree_edit_distance(&empty, &a, &DonutCosts);
    if base == 0.0 {
        return 0.0;
    }
    (1.0 - tree_edit_distance(&p, &a, &DonutCosts) / base).max(0.0)
}

impl std::fmt::Display for DonutF1 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.f1 {
            Some(v) => write!(f, "field F1 {v:.4}")?,
            None => write!(f, "field F1 n/a (no fields)")?,
        }
        write!(
            f,
            "  (true positives {}, false positives + negatives {})",
            self.true_positives, self.false_pos_or_neg
        )
    }
}
