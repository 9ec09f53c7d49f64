//! `WhisperConfig`: a Whisper model's shape, as Hugging Face's `config.json` names it.

use serde::{Deserialize, Serialize};

use crate::ct2::Ct2Model;
use crate::error::{Error, Result};

fn n_mels() -> usize {
    80
}
fn source_positions() -> usize {
    1500
}
fn target_positions() -> usize {
    448
}

/// A Whisper encoder-decoder. Field names are Hugging Face's `config.json`'s
/// (`WhisperConfig` in transformers), so a model's own file deserialises into it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhisperConfig {
    /// Tokens in the vocabulary (51,864 for English-only models, 51,865 multilingual).
    pub vocab_size: usize,
    /// Mel bins of the input (80; 128 for large-v3).
    #[serde(default = "n_mels")]
    pub num_mel_bins: usize,
    /// Width of the residual streams.
    pub d_model: usize,
    /// Encoder layers.
    pub encoder_layers: usize,
    /// Encoder attention heads.
    pub encoder_attention_heads: usize,
    /// Decoder layers.
    pub decoder_layers: usize,
    /// Decoder attention heads.
    pub decoder_attention_heads: usize,
    /// Width of the encoder's feed-forward layers.
    pub encoder_ffn_dim: usize,
    /// Width of the decoder's feed-forward layers.
    pub decoder_ffn_dim: usize,
    /// Encoder positions (audio frames after the stride-2 convolution: 1,500 for 30 s).
    #[serde(default = "source_positions")]
    pub max_source_positions: usize,
    /// Decoder positions (tokens).
    #[serde(default = "target_positions")]
    pub max_target_positions: usize,
}

impl WhisperConfig {
    /// Whisper tiny / tiny.en's shape (`vocab_size` 51,864: English-only).
    pub fn tiny_en() -> Self {
        WhisperConfig {
            vocab_size: 51_864,
            num_mel_bins: 80,
            d_model: 384,
            encoder_layers: 4,
            encoder_attention_heads: 6,
            decoder_layers: 4,
            decoder_attention_heads: 6,
            encoder_ffn_dim: 1536,
            decoder_ffn_dim: 1536,
            max_source_positions: 1500,
            max_target_positions: 448,
        }
    }

    /// The shape a CTranslate2 Whisper model's variables have.
    ///
    /// # Errors
    /// [`Error::Model`] when a variable the shape is read from is missing or malformed.
    pub fn from_ct2(model: &Ct2Model, path: &std::path::Path) -> Result<Self> {
        let bad = |reason: String| Error::Model {
            path: path.to_owned(),
            reason,
        };
        let shape = |name: &str| -> Result<Vec<usize>> {
            model
                .get(name)
                .map(|v| v.shape.clone())
                .ok_or_else(|| bad(format!("no variable {name}")))
        };
        let scalar = |name: &str| -> Result<usize> {
            let v = model
                .get(name)
                .ok_or_else(|| bad(format!("no variable {name}")))?;
            match v.to_f32().as_slice() {
                [x] if *x >= 1.0 => Ok(*x as usize),
                other => Err(bad(format!("{name} is {other:?}, not a count"))),
            }
        };
        let layers = |side: &str| {
            (0..)
                .take_while(|l| {
                    model
                        .variables
                        .contains_key(&format!("{side}/layer_{l}/ffn/linear_0/weight"))
                })
                .count()
        };
        let conv1 = shape("encoder/conv1/weight")?;
        let emb = shape("decoder/embeddings/weight")?;
        let enc_pos = shape("encoder/position_encodings/encodings")?;
        let dec_pos = shape("decoder/position_encodings/encodings")?;
        let enc_ffn = shape("encoder/layer_0/ffn/linear_0/weight")?;
        let dec_ffn = shape("decoder/layer_0/ffn/linear_0/weight")?;
        let (
            [d_model, n_mels, 3],
            [vocab, d2],
            [source, _],
            [target, _],
            [enc_ffn, _],
            [dec_ffn, _],
        ) = (
            conv1.as_slice(),
            emb.as_slice(),
            enc_pos.as_slice(),
            dec_pos.as_slice(),
            enc_ffn.as_slice(),
            dec_ffn.as_slice(),
        )
        else {
            return Err(bad(
                "variables of unexpected ranks for a Whisper model".into()
            ));
        };
        if d2 != d_model {
            return Err(bad(format!(
                "embeddings of width {d2} for a model of width {d_model}"
            )));
        }
        Ok(WhisperConfig {
            vocab_size: *vocab,
            num_mel_bins: *n_mels,
            d_model: *d_model,
            encoder_layers: layers("encoder"),
            encoder_attention_heads: scalar("encoder/num_heads")?,
            decoder_layers: layers("decoder"),
            decoder_attention_heads: scalar("decoder/num_heads")?,
            encoder_ffn_dim: *enc_ffn,
            decoder_ffn_dim: *dec_ffn,
            max_source_positions: *source,
            max_target_positions: *target,
        })
    }
}
