//! Instruction pairs for extraction fine-tuning, made from a synthetic document's ground
//! truth: the page's lines as a layout-aware prompt ([`OcrPage`]) and a question, the
//! grounded answer as the assistant's reply. Five kinds per document
//! ([`PairKind`]): the whole extraction, one region, one field, the items table, and an
//! arithmetic check. Read and written as OpenAI chat JSONL
//! (`{"messages": [{"role": "user", "content": ...}, ...]}`).

use std::path::Path;

use rand::Rng;
use rand::seq::IndexedRandom;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use whet_core::data::MalformedPolicy;
use whet_synth_docs::{DocKind, Document, Money};

use crate::error::{Error, Result};
use crate::layout::OcrPage;
use crate::target::{
    FOOTER_FIELDS, INFO_FIELDS, SELLER_FIELDS, TOTAL_FIELDS, document_schema, grounded_target,
    partial_schema,
};
use crate::tokenizer::ChatMessage;

/// What a pair asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairKind {
    /// Every field and the items table.
    Full,
    /// The fields of one region (seller, document information, totals).
    Region,
    /// One field.
    Field,
    /// The items table.
    Items,
    /// Whether the items add up to the total.
    Consistency,
}

impl PairKind {
    /// All five, in order.
    pub const ALL: [PairKind; 5] = [
        PairKind::Full,
        PairKind::Region,
        PairKind::Field,
        PairKind::Items,
        PairKind::Consistency,
    ];
}

/// One training conversation: the messages, the last of them the assistant's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstructionPair {
    /// What it asks.
    pub kind: PairKind,
    /// The conversation (`user`, then `assistant`).
    pub messages: Vec<ChatMessage>,
    /// The JSON schema the answer follows (what constrained decoding enforces).
    pub schema: Value,
}

impl InstructionPair {
    /// The prompt: every message but the answer.
    pub fn prompt(&self) -> &[ChatMessage] {
        &self.messages[..self.messages.len().saturating_sub(1)]
    }

    /// The answer (the last message's content).
    pub fn answer(&self) -> &str {
        self.messages.last().map_or("", |m| m.content.as_str())
    }
}

fn kind_word(kind: DocKind) -> &'static str {
    match kind {
        DocKind::Receipt => "receipt",
        DocKind::Invoice => "invoice",
        DocKind::PurchaseOrder => "purchase order",
    }
}

/// The user message: the page's lines, then the question.
pub fn user_message(page: &OcrPage, question: &str) -> String {
    format!(
        "Document lines (line: x|y text):\n{}\n\n{question}",
        page.text()
    )
}

/// The question of a whole extraction.
pub const FULL_QUESTION: &str = "Extract every field and the items as JSON. Give each value as printed with the lines it is on: [\"value\", line].";

fn pair(
    kind: PairKind,
    page: &OcrPage,
    question: &str,
    answer: &Value,
    schema: Value,
) -> InstructionPair {
    InstructionPair {
        kind,
        messages: vec![
            ChatMessage::new("user", user_message(page, question)),
            ChatMessage::new("assistant", answer.to_string()),
        ],
        schema,
    }
}

fn pick(target: &Value, keys: &[&str]) -> Value {
    let mut o = Map::new();
    for k in keys {
        o.insert((*k).into(), target.get(*k).cloned().unwrap_or(Value::Null));
    }
    Value::Object(o)
}

/// The five pairs of one document printed as `page`: the whole extraction, a region
/// chosen at random, a field chosen at random among those printed, the items table, and
/// the arithmetic check (the items' sum against the subtotal).
pub fn instruction_pairs(
    doc: &Document,
    page: &OcrPage,
    rng: &mut impl Rng,
) -> Vec<InstructionPair> {
    let target = grounded_target(doc, page);
    let kind = doc.kind;
    let word = kind_word(kind);
    let mut out = vec![pair(
        PairKind::Full,
        page,
        FULL_QUESTION,
        &target,
        document_schema(kind),
    )];

    let regions: [(&str, Vec<&str>); 3] = [
        ("the seller (name, address, TIN)", SELLER_FIELDS.to_vec()),
        (
            "the document information (type, number, date, buyer)",
            INFO_FIELDS.to_vec(),
        ),
        (
            "the totals (subtotal, VATable sales, VAT, VAT-exempt sales, total)",
            TOTAL_FIELDS.to_vec(),
        ),
    ];
    let (what, keys) = regions.choose(rng).expect("three regions");
    out.push(pair(
        PairKind::Region,
        page,
        &format!("Extract {what} of this {word} as JSON, each value as [\"value\", line]."),
        &pick(&target, keys),
        partial_schema(kind, keys),
    ));

    let printed: Vec<&str> = SELLER_FIELDS
        .iter()
        .chain(&INFO_FIELDS)
        .chain(&TOTAL_FIELDS)
        .chain(&FOOTER_FIELDS)
        .copied()
        .filter(|k| !target[*k].is_null())
        .collect();
    if let Some(field) = printed.choose(rng) {
        let name = field.replace('_', " ");
        out.push(pair(
            PairKind::Field,
            page,
            &format!("What is the {name} of this {word}? Answer as JSON: [\"value\", line]."),
            &pick(&target, &[field]),
            partial_schema(kind, &[field]),
        ));
    }

    out.push(pair(
        PairKind::Items,
        page,
        "List the line items as JSON, each value as [\"value\", line].",
        &pick(&target, &["items"]),
        partial_schema(kind, &["items"]),
    ));

    let sum: Money = doc.items.iter().map(|i| i.amount).sum();
    let answer = json!({
        "items_sum": sum.plain(),
        "subtotal": target["subtotal"],
        "consistent": doc.is_consistent(),
    });
    let schema = json!({
        "type": "object",
        "properties": {
            "items_sum": {"type": "string"},
            "subtotal": partial_schema(kind, &["subtotal"])["properties"]["subtotal"],
            "consistent": {"type": "boolean"}
        },
        "required": ["items_sum", "subtotal", "consistent"],
        "additionalProperties": false
    });
    out.push(pair(
        PairKind::Consistency,
        page,
        "Add up the item amounts. Do they match the subtotal, and do the totals add up? Answer as JSON.",
        &answer,
        schema,
    ));
    out
}

#[derive(Serialize, Deserialize)]
struct ChatRecord {
    messages: Vec<ChatMessage>,
}

/// Writes `pairs` as OpenAI chat JSONL (`{"messages": [...]}` per line), atomically.
///
/// # Errors
/// [`Error::Core`] when the file cannot be written.
pub fn write_chat_jsonl(path: impl AsRef<Path>, pairs: &[InstructionPair]) -> Result<()> {
    let records: Vec<ChatRecord> = pairs
        .iter()
        .map(|p| ChatRecord {
            messages: p.messages.clone(),
        })
        .collect();
    whet_core::data::write_jsonl(path, &records)?;
    Ok(())
}

/// Reads OpenAI chat JSONL: one conversation per line, ending with the assistant's
/// answer. Conversations read this way are [`PairKind::Full`] with an empty schema
/// (`{}`: any JSON).
///
/// # Errors
/// [`Error::Core`] naming the file and line for a line that is not a conversation;
/// [`Error::Input`] naming them for one that does not end with an assistant message.
pub fn read_chat_jsonl(path: impl AsRef<Path>) -> Result<Vec<InstructionPair>> {
    let path = path.as_ref();
    let read = whet_core::data::read_jsonl::<ChatRecord>(path, MalformedPolicy::Fail)?;
    read.records
        .into_iter()
        .map(|(line, r)| {
            if r.messages.last().is_none_or(|m| m.role != "assistant") {
                return Err(Error::Input {
                    reason: format!(
                        "{}:{line}: a conversation must end with an assistant message",
                        path.display()
                    ),
                });
            }
            Ok(InstructionPair {
                kind: PairKind::Full,
                messages: r.messages,
                schema: json!({}),
            })
        })
        .collect()
}
