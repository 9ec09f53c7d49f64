//! Reviewed extractions back into training. A person corrects the fields extraction was
//! unsure of (hard-mining's review queue); hard-mining's corrections collector writes each
//! document as OpenAI chat JSONL whose answer holds the corrected values as plain strings
//! (`"total": "1,076.50"`). [`reground_pair`] grounds them again to the page the prompt
//! shows, so that a corrected document trains the grounded answers extraction writes.
//!
//! ```
//! use serde_json::json;
//! use whet_vlm_lora::{page_from_prompt, reground, user_message};
//! # use whet_core::geom::{Polygon, TextRegion};
//! # let line = |t: &str, y: f64| TextRegion::new(Polygon::rect(0.0, y, 100.0, y + 10.0), t);
//! # let page = whet_vlm_lora::OcrPage::new([line("SUBTOTAL 1,076.50", 0.0), line("TOTAL 1,076.50", 20.0)], [100.0, 40.0]);
//! let prompt = user_message(&page, "Extract the total.");
//! let shown = page_from_prompt(&prompt)?; // the lines the prompt holds
//! let answer = reground(&json!({"subtotal": ["1,076.50", 0], "total": "1,076.50"}), &shown)?;
//! assert_eq!(answer["total"], json!(["1,076.50", 1])); // after the subtotal's line
//! # Ok::<(), whet_vlm_lora::Error>(())
//! ```

use serde_json::{Value, json};
use whet_core::geom::{Polygon, TextRegion};

use crate::error::{Error, Result};
use crate::layout::OcrPage;
use crate::pairs::InstructionPair;
use crate::target::{is_grounded_value, locate};

/// The page a prompt made by [`crate::user_message`] shows: its lines' texts in order,
/// each a one-bucket box at its quantised centre on a page of `buckets` (100) units, so
/// that [`OcrPage::text`] writes the same lines again. Enough to ground values (texts and
/// line numbers); the original polygons are not in a prompt.
///
/// # Errors
/// [`Error::Input`] for a prompt without the lines' header, or a line not written
/// `{n}: {x}|{y} {text}` with `n` counting from 0.
pub fn page_from_prompt(prompt: &str) -> Result<OcrPage> {
    let bad = |reason: String| Error::Input { reason };
    let (_, rest) = prompt
        .split_once("Document lines (line: x|y text):\n")
        .ok_or_else(|| bad("a prompt without its document lines".into()))?;
    let body = rest.split("\n\n").next().unwrap_or_default();
    let mut lines = Vec::new();
    for (i, l) in body.lines().enumerate() {
        let parsed = (|| {
            let (n, rest) = l.split_once(": ")?;
            let (coords, text) = rest.split_once(' ')?;
            let (x, y) = coords.split_once('|')?;
            Some((
                n.parse::<usize>().ok()?,
                x.parse::<f64>().ok()?,
                y.parse::<f64>().ok()?,
                text,
            ))
        })();
        match parsed {
            Some((n, x, y, text)) if n == i => {
                lines.push(TextRegion::new(Polygon::rect(x, y, x + 1.0, y + 1.0), text))
            }
            _ => {
                return Err(bad(format!(
                    "prompt line {i} is not `{i}: x|y text`: {l:?}"
                )));
            }
        }
    }
    let b = f64::from(crate::layout::DEFAULT_BUCKETS);
    Ok(OcrPage::new(lines, [b, b]))
}

/// `answer` with every plain string value grounded to `page`: looked up where
/// [`crate::grounded_target`] would look (in printed order, after the lines the value
/// before it cites, at word boundaries, case-insensitively; from the top when not found
/// there) and written as printed with its lines. Grounded values and `null`s are kept;
/// `document_type` is grounded to the line that prints its kind.
///
/// # Errors
/// [`Error::Input`] naming the field of a value the page does not print (a correction
/// the model could not have copied from the page).
pub fn reground(answer: &Value, page: &OcrPage) -> Result<Value> {
    /// The cursor past a value on `lines`, as [`crate::grounded_target`] moves it: a
    /// quantity shares its row with the unit price after it.
    fn move_past(path: &str, lines: &[usize], at: &mut usize) {
        match (path, lines.first(), lines.last()) {
            ("document_type", ..) | (_, None, _) | (_, _, None) => {}
            (p, Some(&first), _) if p.ends_with(".quantity") => *at = first,
            (_, _, Some(&last)) => *at = last + 1,
        }
    }
    fn walk(v: &Value, path: &str, page: &OcrPage, at: &mut usize) -> Result<Value> {
        if is_grounded_value(v) {
            let a = v.as_array().expect("a grounded value is an array");
            let lines: Vec<usize> = a
                .iter()
                .skip(1)
                .filter_map(Value::as_u64)
                .map(|l| l as usize)
                .collect();
            move_past(path, &lines, at);
            return Ok(v.clone());
        }
        match v {
            Value::String(s) => {
                let wanted = if path == "document_type" {
                    s.replace('_', " ")
                } else {
                    s.clone()
                };
                let from = if path == "document_type" { 0 } else { *at };
                let found = locate(page, &wanted, from).or_else(|| locate(page, &wanted, 0));
                let Some((text, lines)) = found else {
                    return Err(Error::Input {
                        reason: format!("{path}: {s:?} is not printed on the page"),
                    });
                };
                move_past(path, &lines, at);
                let shown = if path == "document_type" {
                    s.clone()
                } else {
                    text
                };
                let mut out = vec![json!(shown)];
                out.extend(lines.iter().map(|&l| json!(l)));
                Ok(Value::Array(out))
            }
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, x)| walk(x, &format!("{path}[{i}]"), page, at))
                .collect::<Result<Vec<_>>>()
                .map(Value::Array),
            Value::Object(o) => {
                let mut out = serde_json::Map::new();
                for (k, x) in o {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    out.insert(k.clone(), walk(x, &p, page, at)?);
                }
                Ok(Value::Object(out))
            }
            other => Ok(other.clone()),
        }
    }
    walk(answer, "", page, &mut 0)
}

/// A conversation read from corrections (OpenAI chat JSONL, [`crate::read_chat_jsonl`]):
/// its answer grounded again to the page its last user message shows ([`reground`]),
/// other messages kept.
///
/// # Errors
/// [`Error::Input`] for an answer that is not JSON, a prompt without document lines, or
/// a value the page does not print.
pub fn reground_pair(pair: &InstructionPair) -> Result<InstructionPair> {
    let prompt = pair
        .prompt()
        .iter()
        .rev()
        .find(|m| m.role == "user")
        .ok_or_else(|| Error::Input {
            reason: "a conversation without a user message".into(),
        })?;
    let page = page_from_prompt(&prompt.content)?;
    let answer: Value = serde_json::from_str(pair.answer()).map_err(|e| Error::Input {
        reason: format!("the answer is not JSON: {e}"),
    })?;
    let mut out = pair.clone();
    let last = out.messages.len() - 1;
    out.messages[last].content = reground(&answer, &page)?.to_string();
    Ok(out)
}
