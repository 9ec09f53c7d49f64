//! TEDS, tree-edit-distance-based similarity of HTML tables, with the semantics of
//! PubTabNet's `src/metric.py` (`TEDS.evaluate`).

use super::html::{Element, parse_html};
use crate::error::{Error, Result};
use crate::extraction::{EditCosts, TreeNode, tree_edit_distance};
use crate::text::distance;

/// A node of PubTabNet's `TableTree`.
#[derive(Debug, Clone, PartialEq)]
pub struct TableNode {
    /// Tag name.
    pub tag: String,
    /// `colspan` of a `td` (1 when absent); `None` for other tags.
    pub colspan: Option<i64>,
    /// `rowspan` of a `td` (1 when absent); `None` for other tags.
    pub rowspan: Option<i64>,
    /// A `td`'s content tokens (`<b>`, characters, `</b>`); empty otherwise or with
    /// `structure_only`.
    pub content: Vec<String>,
}

struct TedsCosts;

impl EditCosts<TableNode> for TedsCosts {
    fn insert(&self, _: &TableNode) -> f64 {
        1.0
    }
    fn delete(&self, _: &TableNode) -> f64 {
        1.0
    }
    fn rename(&self, a: &TableNode, b: &TableNode) -> f64 {
        if a.tag != b.tag || a.colspan != b.colspan || a.rowspan != b.rowspan {
            return 1.0;
        }
        if a.tag == "td" && (!a.content.is_empty() || !b.content.is_empty()) {
            let longest = a.content.len().max(b.content.len());
            return distance(&a.content, &b.content) as f64 / longest as f64;
        }
        0.0
    }
}

fn tokenize(e: &Element, out: &mut Vec<String>) {
    out.push(format!("<{}>", e.tag));
    out.extend(e.text.chars().map(String::from));
    for c in &e.children {
        tokenize(c, out);
    }
    if e.tag != "unk" {
        out.push(format!("</{}>", e.tag));
    }
    if e.tag != "td" {
        out.extend(e.tail.chars().map(String::from));
    }
}

fn span(e: &Element, name: &str) -> Result<i64> {
    match e.attr(name) {
        None => Ok(1),
        Some(v) => v
            .trim_matches(crate::text::py_is_whitespace)
            .parse::<i64>()
            .map_err(|_| Error::Table {
                reason: format!("<td {name}={v:?}> is not an integer"),
            }),
    }
}

/// PubTabNet's `load_html_tree`: `td` cells become leaves carrying their tokens; every
/// other element (`th` and inline tags outside cells included) becomes a node.
fn table_tree(e: &Element, structure_only: bool) -> Result<TreeNode<TableNode>> {
    if e.tag == "td" {
        let content = if structure_only {
            Vec::new()
        } else {
            let mut tokens = Vec::new();
            tokenize(e, &mut tokens);
            tokens[1..tokens.len() - 1].to_vec()
        };
        return Ok(TreeNode::leaf(TableNode {
            tag: e.tag.clone(),
            colspan: Some(span(e, "colspan")?),
            rowspan: Some(span(e, "rowspan")?),
            content,
        }));
    }
    let children = e
        .children
        .iter()
        .map(|c| table_tree(c, structure_only))
        .collect::<Result<Vec<_>>>()?;
    Ok(TreeNode::new(
        TableNode {
            tag: e.tag.clone(),
            colspan: None,
            rowspan: None,
            content: Vec::new(),
        },
        children,
    ))
}

/// TEDS of two parsed `table` elements: `1 - TED / max(descendant elements)`.
///
/// # Errors
/// [`Error::Table`] for a `colspan` / `rowspan` that is not an integer, or when neither
/// table has any element inside (PubTabNet divides by zero there).
pub fn teds_tables(pred: &Element, truth: &Element, structure_only: bool) -> Result<f64> {
    let n_nodes = pred.descendant_count().max(truth.descendant_count());
    let a = table_tree(pred, structure_only)?;
    let b = table_tree(truth, structure_only)?;
    if n_nodes == 0 {
        return Err(Error::Table {
            reason: "both tables are empty (PubTabNet divides by zero)".into(),
        });
    }
    Ok(1.0 - tree_edit_distance(&a, &b, &TedsCosts) / n_nodes as f64)
}

fn looks_like_full_html(s: &str) -> bool {
    let t = s.trim_start_matches(crate::text::py_is_whitespace);
    let lower: String = t.chars().take(9).collect::<String>().to_ascii_lowercase();
    lower.starts_with("<html") || lower.starts_with("<!doctype")
}

/// The first `body/table` of a document, as PubTabNet finds it. Like `lxml.html.
/// fromstring`, input that does not start with `<html` or `<!doctype` is a fragment, and
/// PubTabNet finds no table in a fragment.
fn body_table(html: &str) -> Option<Element> {
    if !looks_like_full_html(html) {
        return None;
    }
    parse_html(html).child("body")?.child("table").cloned()
}

/// TEDS between a predicted and a true HTML table, as PubTabNet's
/// `TEDS(structure_only).evaluate(pred, true)` computes it: 0 when either is empty or has
/// no `<html><body><table>`; otherwise `1 - TED / max(element counts)` with APTED's
/// costs (rename 1 when tag, colspan or rowspan differ, else for cells the normalised
/// Levenshtein distance of their tokens).
///
/// ```
/// use whet_eval_metrics::table::teds;
/// let truth = "<html><body><table><tr><td>Kape</td><td>120.00</td></tr></table></body></html>";
/// let pred = "<html><body><table><tr><td>Kape</td><td>126.00</td></tr></table></body></html>";
/// assert_eq!(teds(truth, truth, false)?, 1.0);
/// // One of six tokens wrong in one cell of three nodes.
/// assert!((teds(pred, truth, false)? - (1.0 - (1.0 / 6.0) / 3.0)).abs() < 1e-12);
/// assert_eq!(teds(pred, truth, true)?, 1.0);
/// # Ok::<(), whet_eval_metrics::Error>(())
/// ```
///
/// # Errors
/// As [`teds_tables`].
pub fn teds(pred: &str, truth: &str, structure_only: bool) -> Result<f64> {
    if pred.is_empty() || truth.is_empty() {
        return Ok(0.0);
    }
    match (body_table(pred), body_table(truth)) {
        (Some(p), Some(t)) => teds_tables(&p, &t, structure_only),
        _ => Ok(0.0),
    }
}
