//! Extraction a person can trust: schema-constrained generation over a layout-aware
//! prompt, a confidence per value from its tokens' probabilities, every value grounded to
//! the polygon of the OCR lines it cites, and checks that lower the confidence of what
//! they cannot confirm.
//!
//! Checks on every value:
//! - **grounding**: the value must be printed on the lines it cites (case and spacing
//!   aside). Found on other lines instead, it is re-grounded there and its confidence is
//!   capped at [`ExtractConfig::regrounded_cap`]; found nowhere, its confidence is 0: a
//!   value that is not on the page is never confident.
//! - **arithmetic** (eval-metrics' `check_consistency`: line amounts, items = subtotal,
//!   VAT rate, VAT breakdown, total): the values a broken rule involves are multiplied by
//!   [`ExtractConfig::inconsistent_factor`].
//!
//! A document needs review when any value's confidence is below
//! [`ExtractConfig::review_threshold`] (0.85, the seeds' threshold) or a check failed.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use whet_core::burn;
use whet_core::geom::Polygon;
use whet_eval_metrics::extraction::{ConsistencyRules, Rule, Totals, check_consistency};
use whet_synth_docs::DocKind;

use crate::constrain::Grammars;
use crate::error::{Error, Result};
use crate::generate::{GenerationConfig, generate_constrained};
use crate::grounded_grammar::grounded_grammar;
use crate::layout::OcrPage;
use crate::model::LlamaForCausalLM;
use crate::pairs::{FULL_QUESTION, user_message};
use crate::target::{grounded_values, locate, strip_grounding};
use crate::tokenizer::{ChatMessage, Tokenizer};

/// How [`extract`] decodes and checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtractConfig {
    /// Most new tokens.
    pub max_new_tokens: usize,
    /// The last this many of them may only close what is open, so that an answer cut
    /// short still parses (with fewer values).
    #[serde(default = "default_closing_reserve")]
    pub closing_reserve: usize,
    /// Below this confidence a value sends its document to review.
    pub review_threshold: f64,
    /// The most confidence a value keeps when it is found on lines other than those it
    /// cites.
    pub regrounded_cap: f64,
    /// What a failed arithmetic rule multiplies its values' confidence by.
    pub inconsistent_factor: f64,
    /// The arithmetic rules (the Philippines' by default: 12% VAT inside prices).
    pub rules: ConsistencyRules,
    /// Take the tokens the grammar forces (keys, punctuation) without asking the model
    /// ([`crate::GenerationConfig::fast_forward`]).
    #[serde(default = "yes")]
    pub fast_forward: bool,
}

fn default_closing_reserve() -> usize {
    128
}

fn yes() -> bool {
    true
}

impl Default for ExtractConfig {
    fn default() -> Self {
        ExtractConfig {
            max_new_tokens: 1024,
            closing_reserve: default_closing_reserve(),
            review_threshold: 0.85,
            regrounded_cap: 0.5,
            inconsistent_factor: 0.5,
            rules: ConsistencyRules::philippines(),
            fast_forward: true,
        }
    }
}

/// Why a value's confidence was lowered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// Not printed on the lines it cited, but on others (re-grounded there).
    Regrounded,
    /// Printed nowhere on the page.
    NotOnPage,
    /// Cited a line the page does not have.
    BadLine,
    /// Part of an arithmetic rule that fails (its name, as eval-metrics writes it).
    Inconsistent(String),
}

/// One extracted value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtractedValue {
    /// Where in the answer (`total`, `items.2.amount`).
    pub path: String,
    /// The value.
    pub value: String,
    /// 0 to 1: the probability of its tokens (value and citation), lowered by failed
    /// checks.
    pub confidence: f64,
    /// The OCR lines it is read from.
    pub lines: Vec<usize>,
    /// Their polygons' union: where a person looks.
    pub polygon: Option<Polygon>,
    /// Checks it failed.
    pub flags: Vec<Flag>,
}

/// What [`extract`] returns: the values as plain JSON, each value with its confidence
/// and grounding, and whether a person should look.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extraction {
    /// The model's answer with grounding removed (`{"total": "1,780.05", ...}`).
    pub json: Value,
    /// Every value, in document order.
    pub values: Vec<ExtractedValue>,
    /// A value below the threshold, or a failed check.
    pub needs_review: bool,
    /// The arithmetic rules that fail.
    pub violations: Vec<String>,
    /// The model's raw answer.
    pub raw: String,
}

impl Extraction {
    /// The value at `path`, if extracted.
    pub fn get(&self, path: &str) -> Option<&ExtractedValue> {
        self.values.iter().find(|v| v.path == path)
    }
}

/// The byte offset where each token's text ends in the decoded answer.
fn token_ends(tokenizer: &Tokenizer, tokens: &[u32]) -> Result<Vec<usize>> {
    let mut ends = Vec::with_capacity(tokens.len());
    for i in 0..tokens.len() {
        ends.push(tokenizer.decode(&tokens[..=i], true)?.len());
    }
    Ok(ends)
}

/// The confidence of each grounded value of `answer` from the tokens that wrote it: the
/// product of the probabilities of the tokens overlapping its `["value", line]` text in
/// `raw`, found in document order.
fn value_confidences(raw: &str, answer: &Value, ends: &[usize], logprobs: &[f32]) -> Vec<f64> {
    let mut out = Vec::new();
    let mut cursor = 0;
    for v in grounded_values(answer) {
        // Compact answers write `["x",3]`.
        let head = format!("[{}", Value::String(v.text));
        let Some(rel) = raw[cursor..].find(&head) else {
            out.push(0.0);
            continue;
        };
        let start = cursor + rel;
        let end = raw[start..].find(']').map_or(raw.len(), |e| start + e + 1);
        let mut lp = 0.0f64;
        let mut prev = 0;
        for (k, &e) in ends.iter().enumerate() {
            if e > start && prev < end {
                lp += f64::from(logprobs[k]);
            }
            prev = e;
        }
        out.push(lp.exp());
        cursor = end;
    }
    out
}

fn rule_paths(rule: &Rule, items: usize) -> Vec<String> {
    let amounts = (0..items).map(|i| format!("items.{i}.amount"));
    match rule {
        Rule::LineAmount { index } => ["amount", "quantity", "unit_price"]
            .iter()
            .map(|f| format!("items.{index}.{f}"))
            .collect(),
        Rule::ItemsSum => amounts.chain(["subtotal".to_owned()]).collect(),
        Rule::VatRate => vec!["vatable_sales".into(), "vat".into()],
        Rule::VatBreakdown => vec![
            "vatable_sales".into(),
            "vat".into(),
            "vat_exempt".into(),
            "subtotal".into(),
        ],
        Rule::Total => vec!["subtotal".into(), "total".into()],
    }
}

/// Checks a grounded answer against `page` and the arithmetic: each value with its
/// confidence (`confidences`, one per grounded value in document order), polygon and
/// flags. What [`extract`] does after generating; public so that answers from elsewhere
/// (another model, a person) are checked the same way.
pub fn check_answer(
    answer: &Value,
    page: &OcrPage,
    confidences: &[f64],
    config: &ExtractConfig,
) -> Extraction {
    let json = strip_grounding(answer);
    let mut values: Vec<ExtractedValue> = grounded_values(answer)
        .into_iter()
        .enumerate()
        .map(|(i, g)| {
            let mut confidence = confidences.get(i).copied().unwrap_or(0.0);
            let mut flags = Vec::new();
            let mut lines = g.lines.clone();
            let bad_line = lines.iter().any(|&l| l >= page.lines.len());
            let cited: Vec<&str> = lines
                .iter()
                .filter_map(|&l| page.lines.get(l).map(|x| x.text.as_str()))
                .collect();
            let norm = |s: &str| {
                s.split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .to_lowercase()
            };
            let wanted = if g.path == "document_type" {
                g.text.replace('_', " ")
            } else {
                g.text.clone()
            };
            let on_cited =
                !bad_line && !cited.is_empty() && norm(&cited.join(" ")).contains(&norm(&wanted));
            if bad_line {
                flags.push(Flag::BadLine);
            }
            if !on_cited {
                match locate(page, &wanted, 0) {
                    Some((_, found)) => {
                        flags.push(Flag::Regrounded);
                        lines = found;
                        confidence = confidence.min(config.regrounded_cap);
                    }
                    None => {
                        flags.push(Flag::NotOnPage);
                        lines.clear();
                        confidence = 0.0;
                    }
                }
            }
            let polygon = Polygon::union_bounds(
                lines
                    .iter()
                    .filter_map(|&l| page.lines.get(l).map(|x| &x.polygon)),
            );
            ExtractedValue {
                path: g.path,
                value: g.text,
                confidence,
                lines,
                polygon,
                flags,
            }
        })
        .collect();
    let items = json["items"].as_array().map_or(0, Vec::len);
    let violations = check_consistency(&Totals::from_json(&json), &config.rules);
    for v in &violations {
        let name = format!("{:?}", v.rule);
        for path in rule_paths(&v.rule, items) {
            if let Some(x) = values.iter_mut().find(|x| x.path == path) {
                x.confidence *= config.inconsistent_factor;
                x.flags.push(Flag::Inconsistent(name.clone()));
            }
        }
    }
    let needs_review = !violations.is_empty()
        || values
            .iter()
            .any(|v| v.confidence < config.review_threshold);
    Extraction {
        json,
        values,
        needs_review,
        violations: violations.iter().map(|v| format!("{:?}", v.rule)).collect(),
        raw: String::new(),
    }
}

/// The prompt tokens of a whole extraction of `page` (what [`extract`] feeds the
/// model, and what training pairs of kind `Full` hold).
///
/// # Errors
/// As the tokenizer.
pub fn extraction_prompt(tokenizer: &Tokenizer, page: &OcrPage) -> Result<Vec<u32>> {
    let message = ChatMessage::new("user", user_message(page, FULL_QUESTION));
    let text = tokenizer.apply_chat_template(&[message], true)?;
    tokenizer.encode(&text, true)
}

/// Extracts a document of `kind` from its OCR lines: greedy decoding held to the
/// grounded answers of `kind` on `page` ([`grounded_grammar`]: the shape of
/// [`crate::document_schema`], every value printed on the lines it cites, items in printed
/// order), then [`check_answer`].
///
/// # Errors
/// As generation; [`Error::Grammar`] for an answer that does not parse (a generation
/// cut at `max_new_tokens`).
pub fn extract(
    model: &LlamaForCausalLM,
    tokenizer: &Tokenizer,
    grammars: &Grammars,
    page: &OcrPage,
    kind: DocKind,
    config: &ExtractConfig,
    device: &Device,
) -> Result<Extraction> {
    let prompt = extraction_prompt(tokenizer, page)?;
    if page.lines.is_empty() {
        return Err(Error::Input {
            reason: "the page has no lines to extract from".into(),
        });
    }
    let mut constraint = grammars.lark(&grounded_grammar(kind, page))?;
    let generation = GenerationConfig {
        max_new_tokens: config.max_new_tokens,
        closing_reserve: config.closing_reserve,
        temperature: 0.0,
        fast_forward: config.fast_forward,
        ..GenerationConfig::default()
    };
    let out = generate_constrained(
        model,
        tokenizer,
        &prompt,
        &generation,
        &mut constraint,
        device,
        |_, _| {},
    )?;
    let answer: Value = serde_json::from_str(&out.text).map_err(|e| Error::Grammar {
        reason: format!("the answer does not parse ({e}): {}", out.text),
    })?;
    let ends = token_ends(tokenizer, &out.tokens)?;
    let confidences = value_confidences(&out.text, &answer, &ends, &out.logprobs);
    let mut extraction = check_answer(&answer, page, &confidences, config);
    extraction.raw = out.text;
    Ok(extraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_as_confident_as_the_tokens_that_wrote_it() {
        // Tokens: `{"total":` `["` `12.50` `",` `3` `]}`.
        let raw = r#"{"total":["12.50",3]}"#;
        let pieces = [r#"{"total":"#, r#"[""#, "12.50", r#"","#, "3", "]}"];
        let mut ends = Vec::new();
        let mut at = 0;
        for p in pieces {
            at += p.len();
            ends.push(at);
        }
        let logprobs = [0.0, 0.0, 0.5f32.ln(), 0.0, 0.8f32.ln(), 0.0];
        let answer: Value = serde_json::from_str(raw).unwrap();
        let c = value_confidences(raw, &answer, &ends, &logprobs);
        assert_eq!(c.len(), 1);
        assert!((c[0] - 0.4).abs() < 1e-6, "{c:?}");
    }
}
