//! Whisper as burn modules, with Hugging Face's names (`WhisperForConditionalGeneration`):
//! a convolutional stem and a pre-norm Transformer encoder over the log-mel spectrogram,
//! a pre-norm Transformer decoder with cross-attention over its output, and the token
//! embedding as the output projection.

use std::path::Path;

use burn::module::{Module, Param};
use burn::tensor::activation::gelu;
use burn::tensor::module::{attention, conv1d};
use burn::tensor::ops::{AttentionModuleOptions, ConvOptions};
use burn::tensor::{Device, Int, Tensor, TensorData};
use whet_core::burn;
use whet_core::lora::LoraLinear;

use crate::config::WhisperConfig;
use crate::ct2::Ct2Model;
use crate::error::{Error, Result};
use crate::mel::{LogMel, N_FRAMES};
use crate::weights::{Ct2Source, HfSource, build};

/// Layer normalisation over the last axis: `(x - mean) / sqrt(var + 1e-5) * weight +
/// bias` (biased variance, as `torch.nn.LayerNorm`).
#[derive(Module, Debug)]
pub struct LayerNorm {
    /// `[d]`.
    pub weight: Param<Tensor<1>>,
    /// `[d]`.
    pub bias: Param<Tensor<1>>,
}

impl LayerNorm {
    pub(crate) fn new(weight: Tensor<1>, bias: Tensor<1>) -> Self {
        LayerNorm {
            weight: Param::from_tensor(weight),
            bias: Param::from_tensor(bias),
        }
    }

    /// `[..., d] -> [..., d]`.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let mean = x.clone().mean_dim(D - 1);
        let centred = x - mean;
        let var = (centred.clone() * centred.clone()).mean_dim(D - 1);
        centred / var.add_scalar(1e-5).sqrt() * self.weight.val().unsqueeze()
            + self.bias.val().unsqueeze()
    }
}

/// A 1-D convolution with padding 1 and kernel 3 (Whisper's stem).
#[derive(Module, Debug)]
pub struct Conv1d {
    /// `[out, in, 3]`.
    pub weight: Param<Tensor<3>>,
    /// `[out]`.
    pub bias: Param<Tensor<1>>,
    #[module(skip)]
    pub(crate) stride: usize,
}

impl Conv1d {
    /// `[batch, in, frames] -> [batch, out, frames / stride]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        conv1d(
            x,
            self.weight.val(),
            Some(self.bias.val()),
            ConvOptions::new([self.stride], [1], [1], 1),
        )
    }
}

/// Multi-head attention: `q_proj`, `k_proj` (no bias), `v_proj`, `out_proj`.
#[derive(Module, Debug)]
pub struct WhisperAttention {
    /// Query projection.
    pub q_proj: LoraLinear,
    /// Key projection (no bias).
    pub k_proj: LoraLinear,
    /// Value projection.
    pub v_proj: LoraLinear,
    /// Output projection.
    pub out_proj: LoraLinear,
    #[module(skip)]
    pub(crate) heads: usize,
}

impl WhisperAttention {
    /// `x` `[batch, t, d]` attending to `source` `[batch, s, d]` (itself for
    /// self-attention), causally when `causal` -> `[batch, t, d]`.
    pub fn forward(&self, x: Tensor<3>, source: Tensor<3>, causal: bool) -> Tensor<3> {
        let (k, v) = self.keys_values(source);
        self.attend(x, k, v, causal)
    }

    /// The heads' keys and values of `source` `[batch, s, d]`: `[batch, heads, s, d /
    /// heads]` each.
    pub fn keys_values(&self, source: Tensor<3>) -> (Tensor<4>, Tensor<4>) {
        let [b, s, d] = source.dims();
        let h = self.heads;
        let split = |y: Tensor<3>| y.reshape([b, s, h, d / h]).swap_dims(1, 2);
        (
            split(self.k_proj.forward(source.clone())),
            split(self.v_proj.forward(source)),
        )
    }

    /// `x` `[batch, t, d]` attending to keys and values `[batch, heads, s, d / heads]`;
    /// when `causal`, query `i` sees keys up to `s - t + i` (the last `t` are its own).
    pub fn attend(&self, x: Tensor<3>, k: Tensor<4>, v: Tensor<4>, causal: bool) -> Tensor<3> {
        let [b, t, d] = x.dims();
        let h = self.heads;
        let q = self
            .q_proj
            .forward(x)
            .reshape([b, t, h, d / h])
            .swap_dims(1, 2);
        // The backend's scaled dot-product attention, scale 1/sqrt(d / heads) (burn-flex:
        // tiled with an online softmax over long key sequences). Its causal mask is offset
        // by `s - t`: a query after cached keys sees them all and its own predecessors.
        let options = AttentionModuleOptions {
            scale: None,
            softcap: None,
            is_causal: causal,
        };
        let out = attention(q, k, v, None, None, options);
        self.out_proj
            .forward(out.swap_dims(1, 2).reshape([b, t, d]))
    }
}

/// One encoder layer: pre-norm self-attention and feed-forward, each residual.
#[derive(Module, Debug)]
pub struct EncoderLayer {
    /// Self-attention.
    pub self_attn: WhisperAttention,
    /// Its norm.
    pub self_attn_layer_norm: LayerNorm,
    /// Feed-forward in.
    pub fc1: LoraLinear,
    /// Feed-forward out.
    pub fc2: LoraLinear,
    /// The feed-forward's norm.
    pub final_layer_norm: LayerNorm,
}

impl EncoderLayer {
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let y = self.self_attn_layer_norm.forward(x.clone());
        let x = x + self.self_attn.forward(y.clone(), y, false);
        let y = self.final_layer_norm.forward(x.clone());
        x.clone() + self.fc2.forward(gelu(self.fc1.forward(y)))
    }
}

/// The audio encoder.
#[derive(Module, Debug)]
pub struct WhisperEncoder {
    /// Mel bins -> d, stride 1.
    pub conv1: Conv1d,
    /// d -> d, stride 2.
    pub conv2: Conv1d,
    /// Sinusoidal positions `[max_source_positions, d]`.
    pub embed_positions: Param<Tensor<2>>,
    /// The layers.
    pub layers: Vec<EncoderLayer>,
    /// The final norm.
    pub layer_norm: LayerNorm,
}

impl WhisperEncoder {
    /// Log-mel `[batch, n_mels, frames]` -> `[batch, frames / 2, d]` (frames up to twice
    /// the positions: 3,000 for 30 s).
    pub fn forward(&self, mel: Tensor<3>) -> Tensor<3> {
        let x = gelu(self.conv1.forward(mel));
        let x = gelu(self.conv2.forward(x)).swap_dims(1, 2);
        let t = x.dims()[1];
        let pos = self.embed_positions.val().narrow(0, 0, t);
        let mut x = x + pos.unsqueeze();
        for layer in &self.layers {
            x = layer.forward(x);
        }
        self.layer_norm.forward(x)
    }
}

/// One decoder layer: pre-norm causal self-attention, cross-attention over the audio,
/// and feed-forward, each residual.
#[derive(Module, Debug)]
pub struct DecoderLayer {
    /// Causal self-attention.
    pub self_attn: WhisperAttention,
    /// Its norm.
    pub self_attn_layer_norm: LayerNorm,
    /// Cross-attention over the encoder's output.
    pub encoder_attn: WhisperAttention,
    /// Its norm.
    pub encoder_attn_layer_norm: LayerNorm,
    /// Feed-forward in.
    pub fc1: LoraLinear,
    /// Feed-forward out.
    pub fc2: LoraLinear,
    /// The feed-forward's norm.
    pub final_layer_norm: LayerNorm,
}

impl DecoderLayer {
    fn forward(&self, x: Tensor<3>, audio: Tensor<3>, cache: Option<&mut LayerCache>) -> Tensor<3> {
        let y = self.self_attn_layer_norm.forward(x.clone());
        let (x, cross) = match cache {
            None => {
                let x = x + self.self_attn.forward(y.clone(), y, true);
                (x, self.encoder_attn.keys_values(audio))
            }
            Some(c) => {
                let (k, v) = self.self_attn.keys_values(y.clone());
                let (k, v) = match c.self_kv.take() {
                    Some((pk, pv)) => (Tensor::cat(vec![pk, k], 2), Tensor::cat(vec![pv, v], 2)),
                    None => (k, v),
                };
                c.self_kv = Some((k.clone(), v.clone()));
                let x = x + self.self_attn.attend(y, k, v, true);
                let cross = c
                    .cross_kv
                    .get_or_insert_with(|| self.encoder_attn.keys_values(audio))
                    .clone();
                (x, cross)
            }
        };
        let y = self.encoder_attn_layer_norm.forward(x.clone());
        let x = x + self.encoder_attn.attend(y, cross.0, cross.1, false);
        let y = self.final_layer_norm.forward(x.clone());
        x.clone() + self.fc2.forward(gelu(self.fc1.forward(y)))
    }

    /// [`DecoderLayer::forward`] without a cache, also returning the cross-attention's
    /// scores before the softmax, `q k^T / sqrt(d / heads)`: `[batch, heads, t, s]`.
    fn forward_scored(&self, x: Tensor<3>, audio: Tensor<3>) -> (Tensor<3>, Tensor<4>) {
        let y = self.self_attn_layer_norm.forward(x.clone());
        let x = x + self.self_attn.forward(y.clone(), y, true);
        let y = self.encoder_attn_layer_norm.forward(x.clone());
        let (k, v) = self.encoder_attn.keys_values(audio);
        let [b, t, d] = y.dims();
        let h = self.encoder_attn.heads;
        let q = self
            .encoder_attn
            .q_proj
            .forward(y.clone())
            .reshape([b, t, h, d / h])
            .swap_dims(1, 2);
        let scores = q.matmul(k.clone().swap_dims(2, 3)) * (1.0 / ((d / h) as f64).sqrt());
        let x = x + self.encoder_attn.attend(y, k, v, false);
        let y = self.final_layer_norm.forward(x.clone());
        (
            x.clone() + self.fc2.forward(gelu(self.fc1.forward(y))),
            scores,
        )
    }
}

/// One decoder layer's cached keys and values: its self-attention's over the tokens so
/// far, its cross-attention's over the audio (computed once).
#[derive(Debug, Clone, Default)]
pub struct LayerCache {
    self_kv: Option<(Tensor<4>, Tensor<4>)>,
    cross_kv: Option<(Tensor<4>, Tensor<4>)>,
}

/// The decoder's cache for incremental decoding ([`WhisperDecoder::forward_cached`]).
#[derive(Debug, Clone, Default)]
pub struct DecoderCache {
    layers: Vec<LayerCache>,
    len: usize,
}

impl DecoderCache {
    /// Tokens already fed.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no token has been fed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Keeps rows `rows` (`[n]` indices into the batch) in that order: beam search's
    /// surviving sequences after a step.
    pub fn reorder(&mut self, rows: Tensor<1, Int>) {
        let pick = |kv: &mut Option<(Tensor<4>, Tensor<4>)>| {
            if let Some((k, v)) = kv.take() {
                *kv = Some((k.select(0, rows.clone()), v.select(0, rows.clone())));
            }
        };
        for layer in &mut self.layers {
            pick(&mut layer.self_kv);
            pick(&mut layer.cross_kv);
        }
    }
}

/// The text decoder.
#[derive(Module, Debug)]
pub struct WhisperDecoder {
    /// Token embedding `[vocab, d]`, also the output projection.
    pub embed_tokens: Param<Tensor<2>>,
    /// Learned positions `[max_target_positions, d]`.
    pub embed_positions: Param<Tensor<2>>,
    /// The layers.
    pub layers: Vec<DecoderLayer>,
    /// The final norm.
    pub layer_norm: LayerNorm,
}

impl WhisperDecoder {
    /// Tokens `[batch, t]` (the same length in every row) over `audio` `[batch, s, d]` ->
    /// logits `[batch, t, vocab]`.
    ///
    /// # Errors
    /// [`Error::Input`] for ragged rows, a token outside the vocabulary or more tokens
    /// than positions.
    pub fn forward(&self, tokens: &[Vec<u32>], audio: Tensor<3>) -> Result<Tensor<3>> {
        self.run(tokens, audio, None, true)
    }

    /// [`WhisperDecoder::forward`] before the output projection: the final norm's output
    /// `[batch, t, d]` (for a loss over some positions only, through
    /// [`WhisperDecoder::project`]).
    ///
    /// # Errors
    /// As [`WhisperDecoder::forward`].
    pub fn hidden(&self, tokens: &[Vec<u32>], audio: Tensor<3>) -> Result<Tensor<3>> {
        self.run(tokens, audio, None, false)
    }

    /// Logits `[1, t, vocab]` of one row of tokens over `audio` `[1, s, d]`, and each
    /// layer's cross-attention scores before the softmax (`q k^T / sqrt(d / heads)`,
    /// `[1, heads, t, s]`): what openai-whisper's word alignment reads.
    ///
    /// # Errors
    /// As [`WhisperDecoder::forward`].
    pub fn forward_with_cross_attention(
        &self,
        tokens: &[u32],
        audio: Tensor<3>,
    ) -> Result<(Tensor<3>, Vec<Tensor<4>>)> {
        let rows = [tokens.to_vec()];
        let mut x = self.embed(&rows, 0, &audio.device())?;
        let mut scores = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            let (y, s) = layer.forward_scored(x, audio.clone());
            x = y;
            scores.push(s);
        }
        let x = self.layer_norm.forward(x);
        let [b, t, d] = x.dims();
        let vocab = self.embed_tokens.dims()[0];
        let logits = self.project(x.reshape([b * t, d])).reshape([b, t, vocab]);
        Ok((logits, scores))
    }

    /// Hidden states `[n, d]` -> logits `[n, vocab]` (the token embedding, tied).
    pub fn project(&self, hidden: Tensor<2>) -> Tensor<2> {
        hidden.matmul(self.embed_tokens.val().transpose())
    }

    /// [`WhisperDecoder::forward`] for the tokens after those `cache` has seen (their
    /// positions follow on): logits `[batch, t, vocab]` of the new tokens only; the cache
    /// then holds them too. The audio's keys and values are computed on the first call
    /// and kept.
    ///
    /// # Errors
    /// As [`WhisperDecoder::forward`].
    pub fn forward_cached(
        &self,
        tokens: &[Vec<u32>],
        audio: Tensor<3>,
        cache: &mut DecoderCache,
    ) -> Result<Tensor<3>> {
        self.run(tokens, audio, Some(cache), true)
    }

    fn run(
        &self,
        tokens: &[Vec<u32>],
        audio: Tensor<3>,
        mut cache: Option<&mut DecoderCache>,
        head: bool,
    ) -> Result<Tensor<3>> {
        let past = cache.as_ref().map_or(0, |c| c.len);
        let mut x = self.embed(tokens, past, &audio.device())?;
        if let Some(c) = cache.as_mut() {
            c.layers.resize_with(self.layers.len(), LayerCache::default);
            c.len += tokens.first().map_or(0, Vec::len);
        }
        for (l, layer) in self.layers.iter().enumerate() {
            let layer_cache = cache.as_mut().map(|c| &mut c.layers[l]);
            x = layer.forward(x, audio.clone(), layer_cache);
        }
        let x = self.layer_norm.forward(x);
        if !head {
            return Ok(x);
        }
        // logits^T = E x^T: the embedding multiplied as stored (a transposed view of the
        // 51,864 x d matrix would be copied by every product), the small result turned.
        // All rows in one product (expanding E over a batch would copy it per row).
        let [b, t, d] = x.dims();
        let vocab = self.embed_tokens.dims()[0];
        let logits_t = self
            .embed_tokens
            .val()
            .matmul(x.reshape([b * t, d]).transpose());
        Ok(logits_t.transpose().reshape([b, t, vocab]))
    }

    /// Token and position embeddings of `tokens` (rows of one length) after `past`
    /// positions: `[batch, t, d]`.
    fn embed(&self, tokens: &[Vec<u32>], past: usize, device: &Device) -> Result<Tensor<3>> {
        let (b, t) = (tokens.len(), tokens.first().map_or(0, Vec::len));
        let [vocab, d] = self.embed_tokens.dims();
        let positions = self.embed_positions.dims()[0];
        if tokens.iter().any(|r| r.len() != t) || t == 0 || past + t > positions {
            return Err(Error::Input {
                reason: format!(
                    "{b} rows of tokens after {past}, not all of one length in 1..={}",
                    positions.saturating_sub(past)
                ),
            });
        }
        if let Some(bad) = tokens.iter().flatten().find(|&&i| i as usize >= vocab) {
            return Err(Error::Input {
                reason: format!("token {bad} outside a vocabulary of {vocab}"),
            });
        }
        let ids = Tensor::<1, Int>::from_data(
            TensorData::new(
                tokens.iter().flatten().map(|&i| i64::from(i)).collect(),
                [b * t],
            ),
            device,
        );
        let x = self.embed_tokens.val().select(0, ids).reshape([b, t, d]);
        Ok(x + self.embed_positions.val().narrow(0, past, t).unsqueeze())
    }
}

/// A weight's name (transformers'), shape and values.
pub type NamedTensor = (String, Vec<usize>, Vec<f32>);

/// Whisper: encoder and decoder.
#[derive(Module, Debug)]
pub struct WhisperModel {
    /// The audio encoder.
    pub encoder: WhisperEncoder,
    /// The text decoder.
    pub decoder: WhisperDecoder,
    #[module(skip)]
    pub(crate) config: WhisperConfig,
}

impl WhisperModel {
    /// The shape it was built with.
    pub fn config(&self) -> &WhisperConfig {
        &self.config
    }

    /// The encoder's output `[1, frames / 2, d]` for the 30-second window of `mel` from
    /// frame `start` ([`N_FRAMES`] frames, zeros past its end).
    ///
    /// # Errors
    /// [`Error::Input`] when `mel` has another number of bins than the model.
    pub fn encode(&self, mel: &LogMel, start: usize, device: &Device) -> Result<Tensor<3>> {
        self.encode_frames(mel, start, N_FRAMES, device)
    }

    /// [`WhisperModel::encode`] of only `take` frames from `start`, zeros after them.
    ///
    /// # Errors
    /// As [`WhisperModel::encode`].
    pub fn encode_frames(
        &self,
        mel: &LogMel,
        start: usize,
        take: usize,
        device: &Device,
    ) -> Result<Tensor<3>> {
        if mel.n_mels != self.config.num_mel_bins {
            return Err(Error::Input {
                reason: format!(
                    "a log-mel of {} bins for a model of {}",
                    mel.n_mels, self.config.num_mel_bins
                ),
            });
        }
        let window = mel.window(start, take, N_FRAMES);
        let x = Tensor::from_data(TensorData::new(window, [1, mel.n_mels, N_FRAMES]), device);
        Ok(self.encoder.forward(x))
    }

    /// Reads a model folder: CTranslate2's (`model.bin`) or Hugging Face's
    /// (`config.json`, `model.safetensors`).
    ///
    /// # Errors
    /// As [`WhisperModel::from_ct2`] and [`WhisperModel::from_pretrained`].
    pub fn from_dir(dir: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let dir = dir.as_ref();
        if dir.join("model.bin").exists() {
            Self::from_ct2(dir.join("model.bin"), device)
        } else {
            Self::from_pretrained(dir, device)
        }
    }

    /// Reads a CTranslate2 Whisper model (`model.bin`: fused query/key/value and
    /// cross-attention key/value split, fp16 widened to f32) onto `device`.
    ///
    /// # Errors
    /// [`Error::Model`] naming the file and variable when it cannot be read or a variable
    /// is missing or has the wrong shape.
    pub fn from_ct2(path: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let path = path.as_ref();
        let file = Ct2Model::read(path)?;
        let config = WhisperConfig::from_ct2(&file, path)?;
        build(config, &Ct2Source { file: &file, path }, device)
    }

    /// Reads a Hugging Face Whisper folder (`config.json`, `model.safetensors` in f32,
    /// f16 or bf16, transformers' names) onto `device`.
    ///
    /// # Errors
    /// [`Error::Model`] naming the file (and tensor) when one cannot be read, a tensor is
    /// missing or has the wrong shape.
    pub fn from_pretrained(dir: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let dir = dir.as_ref();
        let config_path = dir.join("config.json");
        let bytes = std::fs::read(&config_path).map_err(|e| Error::Model {
            path: config_path.clone(),
            reason: e.to_string(),
        })?;
        let config: WhisperConfig = serde_json::from_slice(&bytes).map_err(|e| Error::Model {
            path: config_path.clone(),
            reason: e.to_string(),
        })?;
        let source = HfSource::read(dir.join("model.safetensors"))?;
        build(config, &source, device)
    }

    /// Writes the model as a Hugging Face folder: `config.json` (this model's
    /// [`WhisperConfig`] with `"model_type": "whisper"` and its special token ids) and
    /// `model.safetensors` (f32, transformers' names, active adapters merged), each written
    /// atomically into `dir` (created if missing). [`WhisperModel::from_pretrained`] and
    /// transformers' `WhisperForConditionalGeneration.from_pretrained` read it.
    ///
    /// # Errors
    /// [`Error::Core`] when a file cannot be written; [`Error::Input`] when a weight
    /// cannot be read back.
    pub fn save_pretrained(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| Error::Model {
            path: dir.to_owned(),
            reason: e.to_string(),
        })?;
        let tensors = self.named_tensors()?;
        let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
            .into_iter()
            .map(|(n, d, v)| (n, d, v.iter().flat_map(|x| x.to_le_bytes()).collect()))
            .collect();
        let path = dir.join("model.safetensors");
        let bad = |e: String| Error::Model {
            path: path.clone(),
            reason: e,
        };
        let views = bytes
            .iter()
            .map(|(n, d, b)| {
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, d.clone(), b)
                    .map(|v| (n.clone(), v))
                    .map_err(|e| bad(e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        let metadata = std::collections::HashMap::from([("format".to_string(), "pt".to_string())]);
        let file = safetensors::serialize(views, Some(metadata)).map_err(|e| bad(e.to_string()))?;
        whet_core::data::atomic_write(&path, &file)?;
        let c = &self.config;
        // English-only vocabularies end their text tokens at 50,256, multilingual ones at
        // 50,257; <|startoftranscript|> follows <|endoftext|>.
        let eot = if c.vocab_size >= 51_865 {
            50_257
        } else {
            50_256
        };
        let mut config = serde_json::to_value(c).expect("a config serialises");
        let extra = serde_json::json!({
            "architectures": ["WhisperForConditionalGeneration"],
            "model_type": "whisper",
            "activation_function": "gelu",
            "scale_embedding": false,
            "tie_word_embeddings": true,
            "pad_token_id": eot,
            "eos_token_id": eot,
            "bos_token_id": eot + 1,
            "decoder_start_token_id": eot + 1,
            "dtype": "float32",
        });
        if let (serde_json::Value::Object(o), serde_json::Value::Object(e)) = (&mut config, extra) {
            o.extend(e);
        }
        let json = serde_json::to_vec_pretty(&config).expect("JSON serialises");
        whet_core::data::atomic_write(dir.join("config.json"), &json)?;
        tracing::info!(dir = %dir.display(), "saved a Whisper model as a Hugging Face folder");
        Ok(())
    }
}
