//! Schema- and grammar-constrained decoding with `llguidance`, the structured-output
//! engine llama.cpp, vLLM and mistral.rs use: before each token is chosen, every token
//! that cannot continue the grammar is masked out, so the output always parses.

use std::sync::Arc;
use std::time::Instant;

use llguidance::api::TopLevelGrammar;
use llguidance::toktrie::{SimpleVob, TokEnv};
use llguidance::{Matcher, ParserFactory};

use crate::error::{Error, Result};
use crate::tokenizer::Tokenizer;

fn grammar_err(reason: impl std::fmt::Display) -> Error {
    Error::Grammar {
        reason: reason.to_string(),
    }
}

/// Where a JSON text stands: inside a string (and after a backslash) or not.
#[derive(Debug, Clone, Copy, Default)]
struct JsonLexer {
    in_string: bool,
    escaped: bool,
}

impl JsonLexer {
    /// Reads `text`, returning how much it closes minus how much it opens: +1 for a
    /// string ended, +2 for an array or object ended, -1 for a string begun or a `,`
    /// or `:` (another member or value to come), -2 for an array or object begun and
    /// for each character of a number.
    fn feed(&mut self, text: &[u8]) -> i32 {
        let mut score = 0;
        for &b in text {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                    score += 1;
                }
                continue;
            }
            score += match b {
                b'"' => {
                    self.in_string = true;
                    -1
                }
                b'}' | b']' => 2,
                b'{' | b'[' => -2,
                b',' | b':' => -1,
                // A number's characters: the number could go on for ever, so more of
                // it costs more than ending it (`,`).
                b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-' => -2,
                _ => 0,
            };
        }
        score
    }
}

/// How a constrained JSON document may be laid out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum JsonLayout {
    /// One line, `", "` between items and `": "` after keys (Python's `json.dumps`).
    #[default]
    OneLine,
    /// One line, no spaces (`","`, `":"`): the fewest tokens.
    Compact,
    /// Any whitespace between tokens, as the model likes (pretty-printed, say). A model
    /// sampled hot may spend tokens on it.
    Flexible,
}

/// Compiles grammars for one tokenizer: its token trie is built once (about a tenth of
/// a second for SmolLM2's 49,152 tokens) and shared by every [`Constraint`] made here.
#[derive(Clone)]
pub struct Grammars {
    factory: Arc<ParserFactory>,
    /// Each token's bytes (for closing: [`Constraint::apply_closing`]).
    token_bytes: Arc<Vec<Vec<u8>>>,
}

impl std::fmt::Debug for Grammars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grammars")
            .field("vocab", &self.factory.tok_env().tok_trie().vocab_size())
            .finish()
    }
}

impl Grammars {
    /// For `tokenizer`, over a model vocabulary of `vocab_size` logits (at least the
    /// tokenizer's; the rest are never allowed). The end of a grammar is the tokenizer's
    /// end-of-sequence token.
    ///
    /// # Errors
    /// [`Error::Grammar`] when the token trie cannot be built.
    pub fn new(tokenizer: &Tokenizer, vocab_size: usize) -> Result<Self> {
        let mut bytes =
            toktrie_hf_tokenizers::ByteTokenizer::from_tokenizer(tokenizer.hf().clone())
                .map_err(grammar_err)?;
        let eos: Vec<u32> = tokenizer.eos().into_iter().collect();
        if eos.is_empty() {
            return Err(grammar_err("the tokenizer has no end-of-sequence token"));
        }
        bytes.set_eos_tokens(&eos);
        let env: TokEnv = bytes.into_tok_env(Some(vocab_size)).map_err(grammar_err)?;
        let trie = env.tok_trie();
        let token_bytes = (0..trie.vocab_size() as u32)
            .map(|t| trie.token(t).to_vec())
            .collect();
        let mut factory = ParserFactory::new_simple(&env).map_err(grammar_err)?;
        factory.quiet();
        Ok(Grammars {
            factory: Arc::new(factory),
            token_bytes: Arc::new(token_bytes),
        })
    }

    /// A constraint that lets through exactly the JSON documents valid under `schema`,
    /// laid out on one line as Python's `json.dumps` writes them ([`JsonLayout::OneLine`]),
    /// properties in the schema's order.
    ///
    /// # Errors
    /// [`Error::Grammar`] for a schema llguidance does not support or that is invalid.
    pub fn json_schema(&self, schema: &serde_json::Value) -> Result<Constraint> {
        self.json_schema_with(schema, JsonLayout::OneLine)
    }

    /// As [`Grammars::json_schema`], laid out as `layout` says (a schema's own
    /// `x-guidance` options, llguidance's, take precedence).
    ///
    /// # Errors
    /// As [`Grammars::json_schema`].
    pub fn json_schema_with(
        &self,
        schema: &serde_json::Value,
        layout: JsonLayout,
    ) -> Result<Constraint> {
        let mut schema = schema.clone();
        if let Some(obj) = schema.as_object_mut()
            && !obj.contains_key("x-guidance")
        {
            let options = match layout {
                JsonLayout::OneLine => serde_json::json!({
                    "whitespace_flexible": false, "item_separator": ", ", "key_separator": ": "
                }),
                JsonLayout::Compact => serde_json::json!({
                    "whitespace_flexible": false, "item_separator": ",", "key_separator": ":"
                }),
                JsonLayout::Flexible => serde_json::json!({ "whitespace_flexible": true }),
            };
            obj.insert("x-guidance".into(), options);
        }
        self.compile(TopLevelGrammar::from_json_schema(schema))
    }

    /// A constraint from a grammar in llguidance's Lark syntax (`start: ...`; `%json {...}`
    /// embeds a schema).
    ///
    /// # Errors
    /// [`Error::Grammar`] for a grammar that does not compile.
    pub fn lark(&self, grammar: &str) -> Result<Constraint> {
        self.compile(TopLevelGrammar::from_lark(grammar.to_owned()))
    }

    /// A constraint that lets through exactly the strings matching `regex`.
    ///
    /// # Errors
    /// [`Error::Grammar`] for a regex that does not compile.
    pub fn regex(&self, regex: &str) -> Result<Constraint> {
        self.compile(TopLevelGrammar::from_regex(regex))
    }

    fn compile(&self, grammar: TopLevelGrammar) -> Result<Constraint> {
        let parser = self.factory.create_parser(grammar).map_err(grammar_err)?;
        let matcher = Matcher::new(Ok(parser));
        if let Some(e) = matcher.get_error() {
            return Err(grammar_err(e));
        }
        Ok(Constraint {
            matcher,
            stats: ConstraintStats::default(),
            token_bytes: self.token_bytes.clone(),
            lexer: JsonLexer::default(),
        })
    }
}

/// A receipt's JSON schema (company, address, tax id, date, line items, tax, total,
/// currency: SROIE's four key fields and more), for extraction with
/// [`Grammars::json_schema`].
pub fn receipt_schema() -> serde_json::Value {
    serde_json::from_str(include_str!("schemas/receipt.schema.json"))
        .expect("the bundled schema is JSON")
}

/// What the masks cost during one generation.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ConstraintStats {
    /// Masks computed (one per generated token).
    pub masks: usize,
    /// Seconds spent computing them.
    pub mask_seconds: f64,
    /// The longest single mask, in seconds.
    pub max_mask_seconds: f64,
}

impl ConstraintStats {
    /// Mean microseconds per mask.
    pub fn mean_mask_us(&self) -> f64 {
        if self.masks == 0 {
            0.0
        } else {
            self.mask_seconds * 1e6 / self.masks as f64
        }
    }
}

/// The state of one constrained generation: which tokens may come next. Made by
/// [`Grammars`]; passed to [`crate::generate_constrained`] or [`crate::generate_batch`].
pub struct Constraint {
    matcher: Matcher,
    stats: ConstraintStats,
    token_bytes: Arc<Vec<Vec<u8>>>,
    lexer: JsonLexer,
}

impl std::fmt::Debug for Constraint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Constraint")
            .field("stopped", &self.matcher.is_stopped())
            .field("stats", &self.stats)
            .finish()
    }
}

impl Constraint {
    /// Which tokens may come next (only end-of-sequence once the grammar is complete).
    ///
    /// # Errors
    /// [`Error::Grammar`] when the matcher is in an error state.
    pub fn mask(&mut self) -> Result<SimpleVob> {
        let started = Instant::now();
        let mask = self.matcher.compute_mask_or_eos().map_err(grammar_err)?;
        let took = started.elapsed().as_secs_f64();
        self.stats.masks += 1;
        self.stats.mask_seconds += took;
        self.stats.max_mask_seconds = self.stats.max_mask_seconds.max(took);
        Ok(mask)
    }

    /// Sets the logits of every token the grammar does not allow next to `-inf`.
    ///
    /// # Errors
    /// As [`Constraint::mask`]; [`Error::Grammar`] when no token is allowed.
    pub fn apply(&mut self, logits: &mut [f32]) -> Result<()> {
        let mask = self.mask()?;
        let mut any = false;
        for (i, l) in logits.iter_mut().enumerate() {
            if mask.is_allowed(i as u32) {
                any = true;
            } else {
                *l = f32::NEG_INFINITY;
            }
        }
        if any {
            Ok(())
        } else {
            Err(grammar_err("the grammar allows no token here"))
        }
    }

    /// As [`Constraint::apply`], and then only the allowed tokens that close the most
    /// (for JSON: the end of sequence first, then by strings, arrays and objects ended
    /// minus those begun and members added); the model chooses among those.
    /// What generation does in its last [`crate::GenerationConfig::closing_reserve`]
    /// tokens, so that a document ends complete instead of being cut short.
    ///
    /// # Errors
    /// As [`Constraint::apply`].
    pub fn apply_closing(&mut self, logits: &mut [f32], eos: &[u32]) -> Result<()> {
        self.apply(logits)?;
        let bytes = &self.token_bytes;
        let lexer = self.lexer;
        let rank = |i: usize| {
            if eos.contains(&(i as u32)) {
                i32::MAX
            } else {
                bytes.get(i).map_or(i32::MIN, |b| {
                    let mut l = lexer;
                    l.feed(b)
                })
            }
        };
        let ranks: Vec<i32> = (0..logits.len())
            .map(|i| {
                if logits[i] > f32::NEG_INFINITY {
                    rank(i)
                } else {
                    i32::MIN
                }
            })
            .collect();
        let best = ranks.iter().copied().max().unwrap_or(i32::MIN);
        for (l, r) in logits.iter_mut().zip(ranks) {
            if r < best {
                *l = f32::NEG_INFINITY;
            }
        }
        Ok(())
    }

    /// Advances past `token`.
    ///
    /// # Errors
    /// [`Error::Grammar`] for a token the grammar does not allow.
    pub fn consume(&mut self, token: u32) -> Result<()> {
        self.matcher.consume_token(token).map_err(grammar_err)?;
        if let Some(b) = self.token_bytes.get(token as usize) {
            self.lexer.feed(b);
        }
        Ok(())
    }

    /// Takes the tokens the grammar forces next (none where it allows a choice), at most
    /// `limit` of them, and advances past them.
    ///
    /// # Errors
    /// [`Error::Grammar`] when the matcher cannot take them.
    pub fn fast_forward(&mut self, limit: usize) -> Result<Vec<u32>> {
        let mut forced = self.matcher.compute_ff_tokens();
        forced.truncate(limit);
        for &t in &forced {
            self.consume(t)?;
        }
        Ok(forced)
    }

    /// Whether the grammar is complete (only end-of-sequence may follow).
    pub fn is_finished(&self) -> bool {
        self.matcher.is_stopped()
    }

    /// Whether the text so far is a complete sentence of the grammar.
    pub fn is_accepting(&mut self) -> bool {
        self.matcher.is_accepting().unwrap_or(false)
    }

    /// The mask costs so far.
    pub fn stats(&self) -> ConstraintStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::JsonLexer;

    #[test]
    fn closing_ranks_prefer_ending_strings_numbers_and_objects() {
        let mut at = JsonLexer::default();
        at.feed(br#"{"items": [{"description": "rice"#);
        let rank = |lexer: JsonLexer, t: &[u8]| {
            let mut l = lexer;
            l.feed(t)
        };
        // Inside a string: closing it and the object beats more text, and `}` inside
        // the string is text.
        assert!(rank(at, b"\"}") > rank(at, b"\""));
        assert!(rank(at, b"\"") > rank(at, b" flour"));
        assert_eq!(rank(at, b"}{"), 0);
        // After a number: ending it beats more digits.
        let mut num = JsonLexer::default();
        num.feed(br#"{"amount": 1.0"#);
        assert!(rank(num, b",") > rank(num, b"0"));
        assert!(rank(num, b"}") > rank(num, b","));
    }
}
