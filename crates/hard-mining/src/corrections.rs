//! The corrections collector: reviewed fields gathered into whole extraction examples
//! (the model's input and the JSON it should have answered), exported for fine-tuning as
//! OpenAI chat-format JSONL or as Whetstone instruction pairs, and imported back from
//! either; reviewed text lines exported as PaddleOCR recognition labels
//! ([`write_paddle_rec_labels`], for ocr-det) and reviewed messages as an intent dataset
//! ([`write_intent_jsonl`], for intent-svc).
//!
//! - **OpenAI chat** (`{"messages": [system, user, assistant]}`, what OpenAI's and most
//!   open fine-tuning tools read): the assistant's content is the JSON answer. The format
//!   has no sample weights, so an example of weight 2 is written twice; reading merges
//!   identical consecutive examples back into one of summed weight.
//! - **Instruction pairs** (`{"instruction", "input", "output", "weight", "id",
//!   "provenance"}`, Alpaca's fields plus Whetstone's): weights and provenance kept.
//!
//! ```
//! use serde_json::json;
//! use whet_hard_mining::corrections::{Example, read_instruction_pairs, read_openai_chat,
//!     write_instruction_pairs, write_openai_chat};
//! let dir = tempfile::tempdir()?;
//! let examples = vec![Example {
//!     id: "doc-1".into(),
//!     input: "TOTAL 1,018.98".into(),
//!     output: json!({"total": "1,018.98"}),
//!     weight: 2.0,
//!     provenance: vec![],
//! }];
//! let chat = dir.path().join("train.chat.jsonl");
//! write_openai_chat(&chat, &examples, "Extract the receipt's fields as JSON.")?;
//! assert_eq!(std::fs::read_to_string(&chat)?.lines().count(), 2); // weight 2: twice
//! let back = read_openai_chat(&chat)?;
//! assert_eq!((back.len(), back[0].weight, &back[0].output), (1, 2.0, &examples[0].output));
//! let pairs = dir.path().join("train.pairs.jsonl");
//! write_instruction_pairs(&pairs, &examples, "Extract the receipt's fields as JSON.")?;
//! assert_eq!(read_instruction_pairs(&pairs)?, examples);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use whet_core::data::{JsonlReader, write_jsonl};

use crate::error::{Error, Result};
use crate::queue::{Correction, Provenance};

/// One extraction example.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    /// Where it came from (the document id).
    pub id: String,
    /// What the model reads (OCR text, a prompt, an image reference).
    pub input: String,
    /// The JSON it should answer.
    pub output: Value,
    /// Sample weight (2 when a person corrected the model).
    pub weight: f64,
    /// The reviews it was built from.
    #[serde(default)]
    pub provenance: Vec<Provenance>,
}

/// Sets (or, for `None`, removes) the value at a field path such as `items[2].amount`
/// inside `doc`, creating objects and array slots on the way.
fn set_path(doc: &mut Value, path: &str, value: Option<&str>) {
    let mut steps: Vec<(String, Option<usize>)> = Vec::new();
    for part in path.split('.') {
        match part.split_once('[') {
            Some((key, rest)) => {
                let index = rest.trim_end_matches(']').parse().ok();
                steps.push((key.to_owned(), index));
            }
            None => steps.push((part.to_owned(), None)),
        }
    }
    let mut at = doc;
    for (i, (key, index)) in steps.iter().enumerate() {
        let last = i + 1 == steps.len();
        if !at.is_object() {
            *at = json!({});
        }
        let obj = at.as_object_mut().expect("made an object");
        if last && index.is_none() {
            match value {
                Some(v) => {
                    obj.insert(key.clone(), Value::String(v.to_owned()));
                }
                None => {
                    obj.remove(key);
                }
            }
            return;
        }
        let entry = obj.entry(key.clone()).or_insert(Value::Null);
        at = match index {
            Some(k) => {
                if !entry.is_array() {
                    *entry = json!([]);
                }
                let arr = entry.as_array_mut().expect("made an array");
                while arr.len() <= *k {
                    arr.push(json!({}));
                }
                &mut arr[*k]
            }
            None => entry,
        };
        if last {
            *at = value.map_or(Value::Null, |v| Value::String(v.to_owned()));
            return;
        }
    }
}

/// Whole examples from reviewed fields: per document, the predicted document from the
/// context (`context.document`; fields nobody reviewed are taken as predicted, having been
/// confident) with every reviewed field set to its right value, and the model input from
/// `context.input`. The weight is the largest of its fields' (2 with any correction).
/// Documents in order of first appearance.
pub fn examples_from_samples(samples: &[Correction]) -> Vec<Example> {
    let mut order: Vec<String> = Vec::new();
    let mut by_doc: BTreeMap<String, Example> = BTreeMap::new();
    for s in samples {
        let e = by_doc.entry(s.doc_id.clone()).or_insert_with(|| {
            order.push(s.doc_id.clone());
            Example {
                id: s.doc_id.clone(),
                input: s.context.input.clone().unwrap_or_default(),
                output: s.context.document.clone().unwrap_or_else(|| json!({})),
                weight: 0.0,
                provenance: Vec::new(),
            }
        });
        set_path(&mut e.output, &s.field, s.value.as_deref());
        e.weight = e.weight.max(s.weight);
        e.provenance.push(s.provenance.clone());
    }
    order
        .into_iter()
        .filter_map(|d| by_doc.remove(&d))
        .collect()
}

/// Writes `examples` as OpenAI chat fine-tuning JSONL, atomically; each example repeated
/// `round(weight)` times (at least once).
///
/// # Errors
/// [`Error::Core`] when the file cannot be written.
pub fn write_openai_chat(path: impl AsRef<Path>, examples: &[Example], system: &str) -> Result<()> {
    let mut lines = Vec::new();
    for e in examples {
        let line = json!({"messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": e.input},
            {"role": "assistant", "content": e.output.to_string()},
        ]});
        for _ in 0..copies(e.weight) {
            lines.push(line.clone());
        }
    }
    Ok(write_jsonl(path, &lines)?)
}

/// `path:line: reason`, as whet-core's JSONL errors read.
fn bad(path: &Path, line: usize, reason: impl Into<String>) -> Error {
    Error::Core(whet_core::Error::JsonlRecord {
        path: path.to_owned(),
        line,
        reason: reason.into(),
    })
}

/// Reads OpenAI chat JSONL: the user message is the input, the assistant message (which
/// must be JSON) the output; identical consecutive examples merge into one whose weight
/// is their count. Ids are `line-N` of each example's first line.
///
/// # Errors
/// [`Error::Core`] naming the file and line of a malformed record, one without a user or
/// assistant message, or an assistant answer that is not JSON.
pub fn read_openai_chat(path: impl AsRef<Path>) -> Result<Vec<Example>> {
    #[derive(Deserialize)]
    struct Message {
        role: String,
        content: String,
    }
    #[derive(Deserialize)]
    struct Chat {
        messages: Vec<Message>,
    }
    let path = path.as_ref();
    let mut out: Vec<Example> = Vec::new();
    for record in JsonlReader::<Chat>::open(path)? {
        let (line, chat) = record?;
        let content = |role: &str| {
            chat.messages
                .iter()
                .rev()
                .find(|m| m.role == role)
                .map(|m| m.content.clone())
        };
        let input = content("user").ok_or_else(|| bad(path, line, "no user message"))?;
        let answer = content("assistant").ok_or_else(|| bad(path, line, "no assistant message"))?;
        let output: Value = serde_json::from_str(&answer).map_err(|e| {
            bad(
                path,
                line,
                format!("the assistant's answer is not JSON: {e}"),
            )
        })?;
        match out.last_mut() {
            Some(prev) if prev.input == input && prev.output == output => prev.weight += 1.0,
            _ => out.push(Example {
                id: format!("line-{line}"),
                input,
                output,
                weight: 1.0,
                provenance: Vec::new(),
            }),
        }
    }
    Ok(out)
}

#[derive(Serialize, Deserialize)]
struct Pair {
    instruction: String,
    input: String,
    output: String,
    weight: f64,
    id: String,
    #[serde(default)]
    provenance: Vec<Provenance>,
}

/// Writes `examples` as Whetstone instruction pairs (JSONL), atomically: `instruction`,
/// `input`, `output` (the JSON answer as text), `weight`, `id`, `provenance`.
///
/// # Errors
/// [`Error::Core`] when the file cannot be written.
pub fn write_instruction_pairs(
    path: impl AsRef<Path>,
    examples: &[Example],
    instruction: &str,
) -> Result<()> {
    let pairs: Vec<Pair> = examples
        .iter()
        .map(|e| Pair {
            instruction: instruction.to_owned(),
            input: e.input.clone(),
            output: e.output.to_string(),
            weight: e.weight,
            id: e.id.clone(),
            provenance: e.provenance.clone(),
        })
        .collect();
    Ok(write_jsonl(path, &pairs)?)
}

/// Reads Whetstone instruction pairs.
///
/// # Errors
/// [`Error::Core`] naming the file and line of a malformed record, an `output` that is not
/// JSON, or a weight that is negative or not finite.
pub fn read_instruction_pairs(path: impl AsRef<Path>) -> Result<Vec<Example>> {
    let path = path.as_ref();
    let mut out = Vec::new();
    for record in JsonlReader::<Pair>::open(path)? {
        let (line, p) = record?;
        if !(p.weight.is_finite() && p.weight >= 0.0) {
            return Err(bad(
                path,
                line,
                format!("weight {} is not a finite non-negative number", p.weight),
            ));
        }
        let output = serde_json::from_str(&p.output)
            .map_err(|e| bad(path, line, format!("output is not JSON: {e}")))?;
        out.push(Example {
            id: p.id,
            input: p.input,
            output,
            weight: p.weight,
            provenance: p.provenance,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_set_and_remove_values() {
        let mut doc = json!({"total": "1", "items": [{"amount": "2"}]});
        set_path(&mut doc, "total", Some("3"));
        set_path(&mut doc, "items[1].amount", Some("4"));
        set_path(&mut doc, "items[0].amount", None);
        set_path(&mut doc, "seller.tin", Some("283-027-817-000"));
        assert_eq!(
            doc,
            json!({"total": "3", "items": [{}, {"amount": "4"}], "seller": {"tin": "283-027-817-000"}})
        );
    }
}

/// How many times a sample of `weight` is written to a format without weights.
fn copies(weight: f64) -> usize {
    (weight.round() as usize).max(1)
}

/// Writes reviewed text lines as a PaddleOCR recognition label file (`rec_gt.txt`:
/// `image<TAB>text`, what ocr-det's recipes and PaddleOCR train from), atomically: one
/// line per review whose context has the line image (`context.image`, written as given:
/// relative to the label file's folder, as PaddleOCR resolves it) and a value, repeated
/// `round(weight)` times (a correction twice); returns how many reviews were written.
/// Reviews without an image or with an empty value (nothing to read) are left out.
///
/// ```
/// use whet_hard_mining::corrections::write_paddle_rec_labels;
/// use whet_hard_mining::queue::{ReviewItem, ReviewStore, SqliteQueue};
/// let dir = tempfile::tempdir()?;
/// let queue = SqliteQueue::open(dir.path().join("review.sqlite"))?;
/// let item = ReviewItem::builder("r1/line3", "r1", "line3")
///     .predicted("TOTAL RN 5.00").confidence(0.4).image("crops/r1_3.png").build()?;
/// queue.enqueue(&item)?;
/// queue.correct(queue.pending(1)?[0].id, Some("TOTAL RM 5.00".into()), "ana")?;
/// let labels = dir.path().join("rec_gt.txt");
/// assert_eq!(write_paddle_rec_labels(&labels, &queue.corrections()?)?, 1);
/// assert_eq!(std::fs::read_to_string(&labels)?, "crops/r1_3.png\tTOTAL RM 5.00\n".repeat(2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`Error::Core`] when the file cannot be written.
pub fn write_paddle_rec_labels(path: impl AsRef<Path>, samples: &[Correction]) -> Result<usize> {
    use whet_core::data::paddle::{RecSample, rec_line};
    let mut out = String::new();
    let mut written = 0;
    for s in samples {
        let (Some(image), Some(text)) = (&s.context.image, &s.value) else {
            continue;
        };
        if text.is_empty() {
            continue;
        }
        let line = rec_line(&RecSample {
            image: image.into(),
            text: text.clone(),
        });
        for _ in 0..copies(s.weight) {
            out.push_str(&line);
            out.push('\n');
        }
        written += 1;
    }
    whet_core::data::atomic_write(path, out.as_bytes())?;
    Ok(written)
}

/// One reviewed message as a sample of an intent dataset: the JSONL record
/// `whet-intent-svc`'s `Dataset::read_jsonl` reads (`text`, `intent`, `source`,
/// `confidence`, `corrected`; a corrected sample weighs 2 there).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentSample {
    /// The message (`context.input`).
    pub text: String,
    /// Its intent (the reviewed value).
    pub intent: String,
    /// `corrected` or `live` (validated as predicted).
    pub source: String,
    /// The model's confidence when it predicted.
    pub confidence: Option<f64>,
    /// Whether the reviewer changed the intent.
    pub corrected: bool,
}

/// Writes reviewed intent predictions as intent-dataset JSONL, atomically: one record
/// per review with a message (`context.input`) and an intent; returns how many.
///
/// # Errors
/// [`Error::Core`] when the file cannot be written.
pub fn write_intent_jsonl(path: impl AsRef<Path>, samples: &[Correction]) -> Result<usize> {
    let records: Vec<IntentSample> = samples
        .iter()
        .filter_map(|s| {
            let corrected = s.weight > 1.0;
            Some(IntentSample {
                text: s.context.input.clone()?,
                intent: s.value.clone()?,
                source: if corrected { "corrected" } else { "live" }.to_owned(),
                confidence: Some(s.provenance.confidence),
                corrected,
            })
        })
        .collect();
    write_jsonl(path, &records)?;
    Ok(records.len())
}
