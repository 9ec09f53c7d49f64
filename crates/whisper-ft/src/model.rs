//! Whisper as burn modules, with Hugging Face's names (`WhisperForConditionalGeneration`):
//! a convolutional stem and a pre-norm Transformer encoder over the log-mel spectrogram,
//! a pre-norm Transformer decoder with cross-attention over its output, and the token
//! embedding as the output projection.

use std::path::Path;

use burn::module::{Module, Param};
use burn::tensor::activation::{gelu, softmax};
use burn::tensor::module::conv1d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Int, Tensor, TensorData};
use whet_core::burn;
use whet_core::lora::LoraLinear;

use crate::config::WhisperConfig;
use crate::ct2::Ct2Model;
use crate::error::{Error, Result};
use crate::mel::{LogMel, N_FRAMES};

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
    fn new(weight: Tensor<1>, bias: Tensor<1>) -> Self {
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
    stride: usize,
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
    heads: usize,
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
        let s = k.dims()[2];
        let h = self.heads;
        let dh = d / h;
        let q = self
            .q_proj
            .forward(x)
            .reshape([b, t, h, dh])
            .swap_dims(1, 2);
        let mut scores = q
            .matmul(k.swap_dims(2, 3))
            .mul_scalar((dh as f64).powf(-0.5));
        if causal {
            let device = scores.device();
            let mask = Tensor::<2, burn::tensor::Bool>::tril_mask([t, s], (s - t) as i64, &device);
            scores = scores.mask_fill(mask.unsqueeze::<4>(), f32::NEG_INFINITY);
        }
        let out = softmax(scores, 3).matmul(v);
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
        let pos = self.embed_positions.val().slice([0..t]);
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
        self.run(tokens, audio, None)
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
        self.run(tokens, audio, Some(cache))
    }

    fn run(
        &self,
        tokens: &[Vec<u32>],
        audio: Tensor<3>,
        mut cache: Option<&mut DecoderCache>,
    ) -> Result<Tensor<3>> {
        let device = audio.device();
        let past = cache.as_ref().map_or(0, |c| c.len);
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
            &device,
        );
        let x = self.embed_tokens.val().select(0, ids).reshape([b, t, d]);
        let mut x = x + self
            .embed_positions
            .val()
            .slice([past..past + t])
            .unsqueeze();
        if let Some(c) = cache.as_mut() {
            c.layers.resize_with(self.layers.len(), LayerCache::default);
            c.len += t;
        }
        for (l, layer) in self.layers.iter().enumerate() {
            let layer_cache = cache.as_mut().map(|c| &mut c.layers[l]);
            x = layer.forward(x, audio.clone(), layer_cache);
        }
        let x = self.layer_norm.forward(x);
        let head = self.embed_tokens.val().transpose().unsqueeze::<3>();
        Ok(x.matmul(head))
    }
}

/// Whisper: encoder and decoder.
#[derive(Module, Debug)]
pub struct WhisperModel {
    /// The audio encoder.
    pub encoder: WhisperEncoder,
    /// The text decoder.
    pub decoder: WhisperDecoder,
    #[module(skip)]
    config: WhisperConfig,
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
        Ct2Loader {
            file: &file,
            path,
            device,
        }
        .model(config)
    }
}

/// Builds modules from a CTranslate2 file's variables.
struct Ct2Loader<'a> {
    file: &'a Ct2Model,
    path: &'a Path,
    device: &'a Device,
}

impl Ct2Loader<'_> {
    fn tensor<const D: usize>(&self, name: &str, shape: [usize; D]) -> Result<Tensor<D>> {
        let bad = |reason: String| Error::Model {
            path: self.path.to_owned(),
            reason: format!("{name}: {reason}"),
        };
        let v = self.file.get(name).ok_or_else(|| bad("missing".into()))?;
        if v.shape != shape {
            return Err(bad(format!("shape {:?}, expected {shape:?}", v.shape)));
        }
        Ok(Tensor::from_data(
            TensorData::new(v.to_f32(), shape),
            self.device,
        ))
    }

    /// Rows `rows` of the `[out, in]` weight `name` (and its bias) as a layer.
    fn linear(
        &self,
        name: &str,
        out_total: usize,
        d_in: usize,
        rows: std::ops::Range<usize>,
        bias: bool,
    ) -> Result<LoraLinear> {
        let w = self.tensor::<2>(&format!("{name}/weight"), [out_total, d_in])?;
        let w = w.slice([rows.clone(), 0..d_in]).transpose();
        let b = if bias {
            let b = self.tensor::<1>(&format!("{name}/bias"), [out_total])?;
            Some(b.slice([rows]))
        } else {
            None
        };
        // A transposed view would be copied by every product: copied once here.
        let w = Tensor::from_data(w.into_data(), self.device);
        Ok(LoraLinear::new(w, b))
    }

    fn norm(&self, name: &str, d: usize) -> Result<LayerNorm> {
        Ok(LayerNorm::new(
            self.tensor(&format!("{name}/gamma"), [d])?,
            self.tensor(&format!("{name}/beta"), [d])?,
        ))
    }

    /// Attention whose query, key and value come from one fused layer `fused`
    /// (`q` rows 0..d, `k` d..2d, `v` 2d..3d) or, for cross-attention, from `q` and a
    /// fused key/value layer.
    fn attention(
        &self,
        prefix: &str,
        d: usize,
        heads: usize,
        cross: bool,
    ) -> Result<WhisperAttention> {
        let (q, k, v, out) = if cross {
            let kv = format!("{prefix}/linear_1");
            (
                self.linear(&format!("{prefix}/linear_0"), d, d, 0..d, true)?,
                self.linear(&kv, 2 * d, d, 0..d, false)?,
                self.linear(&kv, 2 * d, d, d..2 * d, true)?,
                self.linear(&format!("{prefix}/linear_2"), d, d, 0..d, true)?,
            )
        } else {
            let qkv = format!("{prefix}/linear_0");
            (
                self.linear(&qkv, 3 * d, d, 0..d, true)?,
                self.linear(&qkv, 3 * d, d, d..2 * d, false)?,
                self.linear(&qkv, 3 * d, d, 2 * d..3 * d, true)?,
                self.linear(&format!("{prefix}/linear_1"), d, d, 0..d, true)?,
            )
        };
        Ok(WhisperAttention {
            q_proj: q,
            k_proj: k,
            v_proj: v,
            out_proj: out,
            heads,
        })
    }

    fn conv(&self, name: &str, out: usize, d_in: usize, stride: usize) -> Result<Conv1d> {
        Ok(Conv1d {
            weight: Param::from_tensor(self.tensor(&format!("{name}/weight"), [out, d_in, 3])?),
            bias: Param::from_tensor(self.tensor(&format!("{name}/bias"), [out])?),
            stride,
        })
    }

    fn model(&self, c: WhisperConfig) -> Result<WhisperModel> {
        let d = c.d_model;
        let encoder = WhisperEncoder {
            conv1: self.conv("encoder/conv1", d, c.num_mel_bins, 1)?,
            conv2: self.conv("encoder/conv2", d, d, 2)?,
            embed_positions: Param::from_tensor(self.tensor(
                "encoder/position_encodings/encodings",
                [c.max_source_positions, d],
            )?),
            layers: (0..c.encoder_layers)
                .map(|l| {
                    let p = format!("encoder/layer_{l}");
                    Ok(EncoderLayer {
                        self_attn: self.attention(
                            &format!("{p}/self_attention"),
                            d,
                            c.encoder_attention_heads,
                            false,
                        )?,
                        self_attn_layer_norm: self
                            .norm(&format!("{p}/self_attention/layer_norm"), d)?,
                        fc1: self.linear(
                            &format!("{p}/ffn/linear_0"),
                            c.encoder_ffn_dim,
                            d,
                            0..c.encoder_ffn_dim,
                            true,
                        )?,
                        fc2: self.linear(
                            &format!("{p}/ffn/linear_1"),
                            d,
                            c.encoder_ffn_dim,
                            0..d,
                            true,
                        )?,
                        final_layer_norm: self.norm(&format!("{p}/ffn/layer_norm"), d)?,
                    })
                })
                .collect::<Result<_>>()?,
            layer_norm: self.norm("encoder/layer_norm", d)?,
        };
        let decoder = WhisperDecoder {
            embed_tokens: Param::from_tensor(
                self.tensor("decoder/embeddings/weight", [c.vocab_size, d])?,
            ),
            embed_positions: Param::from_tensor(self.tensor(
                "decoder/position_encodings/encodings",
                [c.max_target_positions, d],
            )?),
            layers: (0..c.decoder_layers)
                .map(|l| {
                    let p = format!("decoder/layer_{l}");
                    let h = c.decoder_attention_heads;
                    Ok(DecoderLayer {
                        self_attn: self.attention(&format!("{p}/self_attention"), d, h, false)?,
                        self_attn_layer_norm: self
                            .norm(&format!("{p}/self_attention/layer_norm"), d)?,
                        encoder_attn: self.attention(&format!("{p}/attention"), d, h, true)?,
                        encoder_attn_layer_norm: self
                            .norm(&format!("{p}/attention/layer_norm"), d)?,
                        fc1: self.linear(
                            &format!("{p}/ffn/linear_0"),
                            c.decoder_ffn_dim,
                            d,
                            0..c.decoder_ffn_dim,
                            true,
                        )?,
                        fc2: self.linear(
                            &format!("{p}/ffn/linear_1"),
                            d,
                            c.decoder_ffn_dim,
                            0..d,
                            true,
                        )?,
                        final_layer_norm: self.norm(&format!("{p}/ffn/layer_norm"), d)?,
                    })
                })
                .collect::<Result<_>>()?,
            layer_norm: self.norm("decoder/layer_norm", d)?,
        };
        Ok(WhisperModel {
            encoder,
            decoder,
            config: c,
        })
    }
}
