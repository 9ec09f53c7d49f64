//! `LlamaConfig`: a Llama-family decoder's shape, as Hugging Face's `config.json` names it.

use serde::{Deserialize, Serialize};
use whet_core::gguf::Gguf;

use crate::error::Result;

fn default_eps() -> f64 {
    1e-5
}

fn default_theta() -> f64 {
    10_000.0
}

fn yes() -> bool {
    true
}

/// A Llama-family decoder (Llama, SmolLM2, Qwen2 without biases): RMSNorm, RoPE,
/// grouped-query attention, SwiGLU. Field names are Hugging Face's `config.json`'s, so a
/// model's own file deserialises into it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlamaConfig {
    /// Tokens in the vocabulary.
    pub vocab_size: usize,
    /// Width of the residual stream.
    pub hidden_size: usize,
    /// Width of the SwiGLU feed-forward layer.
    pub intermediate_size: usize,
    /// Decoder layers.
    pub num_hidden_layers: usize,
    /// Query heads.
    pub num_attention_heads: usize,
    /// Key and value heads (grouped-query attention when fewer than the query heads).
    pub num_key_value_heads: usize,
    /// RMSNorm epsilon.
    #[serde(default = "default_eps")]
    pub rms_norm_eps: f64,
    /// RoPE base.
    #[serde(default = "default_theta")]
    pub rope_theta: f64,
    /// Whether the output head is the token embedding.
    #[serde(default = "yes")]
    pub tie_word_embeddings: bool,
    /// Longest context the model was trained for.
    #[serde(default)]
    pub max_position_embeddings: usize,
}

impl LlamaConfig {
    /// Width of one attention head.
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }

    /// SmolLM2-135M's shape.
    pub fn smollm2_135m() -> Self {
        LlamaConfig {
            vocab_size: 49_152,
            hidden_size: 576,
            intermediate_size: 1536,
            num_hidden_layers: 30,
            num_attention_heads: 9,
            num_key_value_heads: 3,
            rms_norm_eps: 1e-5,
            rope_theta: 100_000.0,
            tie_word_embeddings: true,
            max_position_embeddings: 8192,
        }
    }

    /// The shape a GGUF file's `llama.*` metadata gives.
    ///
    /// # Errors
    /// [`crate::Error::Core`] naming the missing or mistyped key.
    pub fn from_gguf(file: &Gguf) -> Result<Self> {
        let arch = file.str("general.architecture")?.to_owned();
        let key = |k: &str| format!("{arch}.{k}");
        let u = |k: &str| -> Result<usize> { Ok(file.u64(&key(k))? as usize) };
        let vocab_size = match file.u64(&key("vocab_size")) {
            Ok(v) => v as usize,
            Err(_) => file.strings("tokenizer.ggml.tokens")?.len(),
        };
        Ok(LlamaConfig {
            vocab_size,
            hidden_size: u("embedding_length")?,
            intermediate_size: u("feed_forward_length")?,
            num_hidden_layers: u("block_count")?,
            num_attention_heads: u("attention.head_count")?,
            num_key_value_heads: u("attention.head_count_kv")?,
            rms_norm_eps: file.f64(&key("attention.layer_norm_rms_epsilon"))?,
            rope_theta: file.f64(&key("rope.freq_base")).unwrap_or(default_theta()),
            tie_word_embeddings: file.tensor("output.weight").is_err(),
            max_position_embeddings: u("context_length").unwrap_or(0),
        })
    }
}
