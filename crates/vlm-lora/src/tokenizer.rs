//! The model's tokenizer, rebuilt from a GGUF file's token list, merges and
//! pre-tokeniser, on the `tokenizers` crate (the one `tokenizer.json` belongs to).

use std::path::Path;

use tokenizers::models::bpe::{BPE, Vocab};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::{AddedToken, DecoderWrapper, PreTokenizerWrapper};
use whet_core::gguf::{Gguf, Value};

use crate::error::{Error, Result};

/// GGUF `tokenizer.ggml.token_type` values that are special (control, user-defined).
const CONTROL: i64 = 3;
const USER_DEFINED: i64 = 4;

fn tok_err(reason: impl Into<String>) -> Error {
    Error::Tokenizer {
        reason: reason.into(),
    }
}

/// One message of a conversation (OpenAI's chat format).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// What it says.
    pub content: String,
}

impl ChatMessage {
    /// A message from `role`.
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
        ChatMessage {
            role: role.into(),
            content: content.into(),
        }
    }
}

/// A byte-level BPE tokenizer as llama.cpp runs it for GPT-2-style models (SmolLM2,
/// Llama 3, Qwen2): the GGUF's tokens and merges, its pre-tokeniser's splitting rules, and
/// its control tokens (`<|im_start|>`) recognised only when asked.
#[derive(Debug, Clone)]
pub struct Tokenizer {
    /// Control tokens recognised in the text.
    with_special: tokenizers::Tokenizer,
    /// Control tokens spelled as ordinary text.
    plain: tokenizers::Tokenizer,
    bos: Option<u32>,
    eos: Option<u32>,
    chat_template: Option<String>,
}

impl Tokenizer {
    /// Rebuilds the tokenizer of a GGUF file (`tokenizer.ggml.model = gpt2`).
    ///
    /// # Errors
    /// [`Error::Core`] for a missing key; [`Error::Tokenizer`] for a tokenizer model or
    /// pre-tokeniser this crate does not rebuild, or malformed merges.
    pub fn from_gguf(file: &Gguf) -> Result<Self> {
        let model = file.str("tokenizer.ggml.model")?;
        if model != "gpt2" {
            return Err(tok_err(format!(
                "tokenizer.ggml.model {model:?}: only byte-level BPE (gpt2) is rebuilt"
            )));
        }
        let pre = file.str("tokenizer.ggml.pre").unwrap_or("default");
        // llama.cpp's `llama-vocab.cpp`: "smollm" and "gpt-2" split digits one by one
        // ("\p{N}") before GPT-2's pattern; Hugging Face's `Digits(individual_digits)`
        // followed by `ByteLevel(use_regex)` is the same split.
        let individual_digits = match pre {
            "smollm" => true,
            "gpt-2" | "default" => false,
            other => {
                return Err(tok_err(format!(
                    "pre-tokeniser {other:?} is not rebuilt here"
                )));
            }
        };
        let tokens = file.strings("tokenizer.ggml.tokens")?;
        let merges = file.strings("tokenizer.ggml.merges")?;
        let vocab: Vocab = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.to_string(), i as u32))
            .collect();
        let merges = merges
            .iter()
            .map(|m| {
                m.split_once(' ')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .ok_or_else(|| tok_err(format!("merge {m:?} is not two tokens")))
            })
            .collect::<Result<Vec<_>>>()?;
        let bpe = BPE::builder()
            .vocab_and_merges(vocab, merges)
            .build()
            .map_err(|e| tok_err(format!("BPE: {e}")))?;
        let mut t = tokenizers::Tokenizer::new(bpe);
        let byte_level = ByteLevel::new(false, true, true);
        let pre: PreTokenizerWrapper = if individual_digits {
            Sequence::new(vec![Digits::new(true).into(), byte_level.into()]).into()
        } else {
            byte_level.into()
        };
        t.with_pre_tokenizer(Some(pre));
        t.with_decoder(Some(DecoderWrapper::ByteLevel(ByteLevel::default())));
        let special: Vec<AddedToken> = match file.get("tokenizer.ggml.token_type") {
            Some(Value::Array { values, .. }) => values
                .iter()
                .zip(&tokens)
                .filter(|(ty, _)| matches!(ty.as_f64(), Some(v) if v as i64 == CONTROL || v as i64 == USER_DEFINED))
                .map(|(_, tok)| AddedToken::from(tok.to_string(), true))
                .collect(),
            _ => Vec::new(),
        };
        t.add_special_tokens(&special);
        let id = |k: &str| file.u64(k).ok().map(|v| v as u32);
        Ok(Tokenizer::from_parts(
            t,
            id("tokenizer.ggml.bos_token_id"),
            id("tokenizer.ggml.eos_token_id"),
            file.str("tokenizer.chat_template").ok().map(str::to_owned),
        ))
    }

    /// A tokenizer from a `tokenizers` tokenizer (its added special tokens are the
    /// control tokens), the beginning and end tokens and a chat template.
    pub(crate) fn from_parts(
        with_special: tokenizers::Tokenizer,
        bos: Option<u32>,
        eos: Option<u32>,
        chat_template: Option<String>,
    ) -> Self {
        let mut plain = with_special.clone();
        plain.set_encode_special_tokens(true);
        Tokenizer {
            with_special,
            plain,
            bos,
            eos,
            chat_template,
        }
    }

    /// The ids of `text`; `special`: control tokens written in it (`<|im_start|>`) are
    /// those tokens, as in a chat prompt, rather than their spelling.
    ///
    /// # Errors
    /// [`Error::Tokenizer`] when the tokenizer fails.
    pub fn encode(&self, text: &str, special: bool) -> Result<Vec<u32>> {
        let t = if special {
            &self.with_special
        } else {
            &self.plain
        };
        let enc = t.encode(text, false).map_err(|e| tok_err(e.to_string()))?;
        Ok(enc.get_ids().to_vec())
    }

    /// The text of `ids` (control tokens kept unless `skip_special`).
    ///
    /// # Errors
    /// [`Error::Tokenizer`] for an id outside the vocabulary.
    pub fn decode(&self, ids: &[u32], skip_special: bool) -> Result<String> {
        self.with_special
            .decode(ids, skip_special)
            .map_err(|e| tok_err(e.to_string()))
    }

    /// Beginning-of-sequence id.
    pub fn bos(&self) -> Option<u32> {
        self.bos
    }

    /// End-of-sequence id.
    pub fn eos(&self) -> Option<u32> {
        self.eos
    }

    /// The GGUF's chat template (Jinja).
    pub fn chat_template(&self) -> Option<&str> {
        self.chat_template.as_deref()
    }

    /// `messages` rendered by the model's chat template as transformers'
    /// `apply_chat_template` renders them (Jinja, through `minijinja`), ending with the
    /// assistant's turn opened when `add_generation_prompt`. Encode the result with
    /// `special = true`.
    ///
    /// # Errors
    /// [`Error::Tokenizer`] when the model has no template, or it fails to render (its
    /// `raise_exception` included).
    pub fn apply_chat_template(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
    ) -> Result<String> {
        let template = self
            .chat_template
            .as_deref()
            .ok_or_else(|| tok_err("the model has no chat template"))?;
        let mut env = minijinja::Environment::new();
        env.add_function(
            "raise_exception",
            |msg: String| -> std::result::Result<String, minijinja::Error> {
                Err(minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    msg,
                ))
            },
        );
        env.add_template("chat", template)
            .map_err(|e| tok_err(format!("chat template: {e}")))?;
        let name = |id: Option<u32>| {
            id.and_then(|i| self.with_special.id_to_token(i))
                .unwrap_or_default()
        };
        env.get_template("chat")
            .and_then(|t| {
                t.render(minijinja::context! {
                    messages => minijinja::Value::from(minijinja::value::Serde(messages)),
                    add_generation_prompt => add_generation_prompt,
                    bos_token => name(self.bos),
                    eos_token => name(self.eos),
                })
            })
            .map_err(|e| tok_err(format!("chat template: {e}")))
    }

    /// The id of a token spelled `token`.
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.with_special.token_to_id(token)
    }

    /// The `tokenizers` tokenizer, control tokens recognised.
    pub(crate) fn hf(&self) -> &tokenizers::Tokenizer {
        &self.with_special
    }

    /// Tokens in the vocabulary.
    pub fn vocab_size(&self) -> usize {
        self.with_special.get_vocab_size(true)
    }

    /// Writes `tokenizer.json`, Hugging Face's format, which `tokenizers` in Python and
    /// Rust load as it is (atomically: a failed write leaves the previous file).
    ///
    /// # Errors
    /// [`Error::Tokenizer`] when it cannot be serialised; [`Error::Core`] when it cannot
    /// be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let json = self
            .with_special
            .to_string(true)
            .map_err(|e| tok_err(e.to_string()))?;
        Ok(whet_core::data::atomic_write(path, json.as_bytes())?)
    }
}
