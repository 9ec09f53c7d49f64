//! The Llama-family decoder as burn modules, with Hugging Face's names.

use burn::module::{Module, Param};
use burn::tensor::activation::silu;
use burn::tensor::{DType, Device, Int, Tensor, TensorData};
use whet_core::burn;
use whet_core::lora::{LoraLinear, LoraModel};
use whet_core::quant::PackedMatrix;

use crate::attention::{Attention, Positions};
use crate::config::LlamaConfig;
use crate::error::{Error, Result};
use crate::ggml_ops;
use crate::kv_cache::{KvCache, LayerCache};

/// Root-mean-square normalisation: `x / sqrt(mean(x^2) + eps) * weight`.
#[derive(Module, Debug)]
pub struct RmsNorm {
    /// `[hidden]`.
    pub weight: Param<Tensor<1>>,
    #[module(skip)]
    eps: f64,
}

impl RmsNorm {
    /// A norm with `weight` and `eps`.
    pub fn new(weight: Tensor<1>, eps: f64) -> Self {
        RmsNorm {
            weight: Param::from_tensor(weight).set_require_grad(false),
            eps,
        }
    }

    /// `[..., hidden] -> [..., hidden]`, as `x * (1 / sqrt(mean(x^2) + eps)) * weight`
    /// in f32 (transformers' and llama.cpp's order of operations).
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        self.forward_sum(x, false)
    }

    /// [`RmsNorm::forward`], the sum of squares accumulated in f64 when `f64_sum` (and
    /// the device does not record gradients) as llama.cpp's CPU backend does: its
    /// `mean(x^2)`, rounded to f32 once, is then the same number as llama.cpp's.
    pub fn forward_sum<const D: usize>(&self, x: Tensor<D>, f64_sum: bool) -> Tensor<D> {
        let n = x.dims()[D - 1];
        let squares = x.clone() * x.clone();
        let mean = if f64_sum && !x.device().is_autodiff() {
            squares
                .cast(DType::F64)
                .sum_dim(D - 1)
                .div_scalar(n as f64)
                .cast(DType::F32)
        } else {
            squares.mean_dim(D - 1)
        };
        let scale = mean.add_scalar(self.eps).sqrt().recip();
        x * scale * self.weight.val().unsqueeze()
    }
}

/// The token embedding, float or kept in its GGUF blocks (rows decoded on lookup).
#[derive(Module, Debug)]
pub struct TokenEmbedding {
    weight: Option<Param<Tensor<2>>>,
    #[module(skip)]
    packed: Option<PackedMatrix>,
}

impl TokenEmbedding {
    /// Float rows `[vocab, hidden]`.
    pub fn new(weight: Tensor<2>) -> Self {
        TokenEmbedding {
            weight: Some(Param::from_tensor(weight).set_require_grad(false)),
            packed: None,
        }
    }

    /// Rows kept packed, `[vocab, hidden]`.
    pub fn packed(weight: PackedMatrix) -> Self {
        TokenEmbedding {
            weight: None,
            packed: Some(weight),
        }
    }

    /// The weight as a layer computing `x E^T` (the tied output head).
    pub fn as_output_head(&self) -> LoraLinear {
        match (&self.weight, &self.packed) {
            // Copied once into the transposed layout: a transposed view would be copied
            // by every product.
            (Some(w), _) => {
                let t = w.val().transpose();
                let device = t.device();
                LoraLinear::new(Tensor::from_data(t.into_data(), &device), None)
            }
            (None, Some(p)) => LoraLinear::packed(p.clone(), None),
            (None, None) => unreachable!("an embedding has a weight"),
        }
    }

    /// The rows `[vocab, hidden]` as floats on `device` (decoded when packed).
    pub fn weight(&self, device: &Device) -> Tensor<2> {
        match (&self.weight, &self.packed) {
            (Some(w), _) => w.val(),
            (None, Some(p)) => p.to_tensor(device),
            (None, None) => unreachable!("an embedding has a weight"),
        }
    }

    /// `[batch, seq]` token ids -> `[batch, seq, hidden]`.
    ///
    /// # Errors
    /// [`Error::Input`] for an id outside the vocabulary.
    pub fn forward(&self, ids: &[Vec<u32>], device: &Device) -> Result<Tensor<3>> {
        let (b, s) = (ids.len(), ids.first().map_or(0, Vec::len));
        let flat: Vec<usize> = ids.iter().flatten().map(|&i| i as usize).collect();
        match (&self.weight, &self.packed) {
            (Some(w), _) => {
                let [vocab, hidden] = w.dims();
                if let Some(bad) = flat.iter().find(|&&i| i >= vocab) {
                    return Err(Error::Input {
                        reason: format!("token {bad} outside a vocabulary of {vocab}"),
                    });
                }
                let idx = Tensor::<1, Int>::from_data(
                    TensorData::new(flat.iter().map(|&i| i as i64).collect(), [flat.len()]),
                    device,
                );
                Ok(w.val().select(0, idx).reshape([b, s, hidden]))
            }
            (None, Some(p)) => {
                let hidden = p.dims()[1];
                let rows = p.rows_f32(&flat).map_err(|e| Error::Input {
                    reason: e.to_string(),
                })?;
                Ok(Tensor::from_data(
                    TensorData::new(rows, [b, s, hidden]),
                    device,
                ))
            }
            (None, None) => unreachable!("an embedding has a weight"),
        }
    }
}

/// The SwiGLU feed-forward layer: `down(silu(gate(x)) * up(x))`.
#[derive(Module, Debug)]
pub struct Mlp {
    /// `[hidden] -> [intermediate]`.
    pub gate_proj: LoraLinear,
    /// `[hidden] -> [intermediate]`.
    pub up_proj: LoraLinear,
    /// `[intermediate] -> [hidden]`.
    pub down_proj: LoraLinear,
}

/// One decoder layer: pre-norm attention and pre-norm feed-forward, each residual.
#[derive(Module, Debug)]
pub struct DecoderLayer {
    /// Norm before attention.
    pub input_layernorm: RmsNorm,
    /// Attention.
    pub self_attn: Attention,
    /// Norm before the feed-forward layer.
    pub post_attention_layernorm: RmsNorm,
    /// Feed-forward layer.
    pub mlp: Mlp,
}

impl DecoderLayer {
    fn forward(
        &self,
        x: Tensor<3>,
        cache: Option<&mut Option<LayerCache>>,
        pos: &Positions,
    ) -> Tensor<3> {
        let h = x.clone()
            + self.self_attn.forward(
                self.input_layernorm.forward_sum(x, pos.llama_cpp),
                cache,
                pos,
            );
        let n = self
            .post_attention_layernorm
            .forward_sum(h.clone(), pos.llama_cpp);
        let m = &self.mlp;
        let (gate, up) = (m.gate_proj.forward(n.clone()), m.up_proj.forward(n));
        let act = if pos.llama_cpp {
            let dims = gate.dims();
            let host = |t: Tensor<3>| {
                t.into_data()
                    .try_into_vec::<f32>()
                    .expect("f32 activations")
            };
            let y = ggml_ops::swiglu(&host(gate), &host(up));
            Tensor::from_data(TensorData::new(y, dims), &h.device())
        } else {
            silu(gate) * up
        };
        h + m.down_proj.forward(act)
    }
}

/// A Llama-family causal language model: `[batch, seq]` tokens -> `[batch, seq, vocab]`
/// logits. Every projection is a [`LoraLinear`], so adapters attach by PEFT's names
/// (`model.layers.N.self_attn.q_proj`, [`LoraModel`]).
#[derive(Module, Debug)]
pub struct LlamaForCausalLM {
    /// Token embedding.
    pub embed_tokens: TokenEmbedding,
    /// Decoder layers.
    pub layers: Vec<DecoderLayer>,
    /// Final norm.
    pub norm: RmsNorm,
    /// Output head (the embedding, transposed, when tied).
    pub lm_head: LoraLinear,
    #[module(skip)]
    config: LlamaConfig,
    #[module(skip)]
    tied: bool,
    #[module(skip)]
    llama_cpp: bool,
}

/// The parts a loader hands [`LlamaForCausalLM::from_parts`].
#[derive(Debug)]
pub struct LayerParts {
    /// `input_layernorm`, `post_attention_layernorm`.
    pub norms: [Tensor<1>; 2],
    /// `q, k, v, o, gate, up, down`, in that order.
    pub projections: [LoraLinear; 7],
}

impl LlamaForCausalLM {
    /// Builds the model from loaded parts; `lm_head` `None` ties it to the embedding.
    pub fn from_parts(
        config: LlamaConfig,
        embed_tokens: TokenEmbedding,
        layers: Vec<LayerParts>,
        norm: Tensor<1>,
        lm_head: Option<LoraLinear>,
    ) -> Self {
        let eps = config.rms_norm_eps;
        let layers = layers
            .into_iter()
            .map(|p| {
                let [q, k, v, o, gate, up, down] = p.projections;
                let [n1, n2] = p.norms;
                DecoderLayer {
                    input_layernorm: RmsNorm::new(n1, eps),
                    self_attn: Attention {
                        q_proj: q,
                        k_proj: k,
                        v_proj: v,
                        o_proj: o,
                        heads: config.num_attention_heads,
                        kv_heads: config.num_key_value_heads,
                    },
                    post_attention_layernorm: RmsNorm::new(n2, eps),
                    mlp: Mlp {
                        gate_proj: gate,
                        up_proj: up,
                        down_proj: down,
                    },
                }
            })
            .collect();
        let tied = lm_head.is_none();
        let lm_head = lm_head.unwrap_or_else(|| embed_tokens.as_output_head());
        LlamaForCausalLM {
            embed_tokens,
            layers,
            norm: RmsNorm::new(norm, eps),
            lm_head,
            config,
            tied,
            llama_cpp: false,
        }
    }

    /// Computes as llama.cpp's CPU backend does, in inference on a device that does not
    /// record gradients: RMSNorm's squares summed in f64, ggml's rotary table, attention
    /// over an f16 KV cache with llama.cpp's summation order and its `expf`, SwiGLU with
    /// the same `expf` (`ggml_ops`). With the weights kept in their GGUF blocks (whose
    /// products already follow llama.cpp), the logits are llama.cpp's to the last bit.
    /// Set by `from_gguf` with [`crate::Precision::Packed`].
    pub fn set_llama_cpp_arithmetic(&mut self, on: bool) {
        self.llama_cpp = on;
    }

    /// Its shape.
    pub fn config(&self) -> &LlamaConfig {
        &self.config
    }

    /// Whether the output head is the token embedding (no weight of its own).
    pub fn is_tied(&self) -> bool {
        self.tied
    }

    /// The final hidden states `[batch, seq, hidden]` of `ids`, continuing the positions
    /// in `cache` (and adding these to it).
    ///
    /// Rows may differ in length only on a cache's first call (a batch of prompts): they
    /// are then left-padded to the longest, each row's tokens start at position 0 and
    /// its padding is masked, now and in later calls. `seq` is the longest row.
    ///
    /// # Errors
    /// [`Error::Input`] for an empty row, ragged rows after the first call, a batch size
    /// the cache does not hold, or ids outside the vocabulary.
    pub fn hidden(
        &self,
        ids: &[Vec<u32>],
        cache: Option<&mut KvCache>,
        device: &Device,
    ) -> Result<Tensor<3>> {
        self.run_layers(ids, cache, device, None)
    }

    /// Every layer's hidden states, as transformers' `output_hidden_states` gives them:
    /// `num_hidden_layers + 1` tensors `[batch, seq, hidden]`, the embeddings first, then
    /// each decoder layer's output, the last one after the final norm (it equals
    /// [`LlamaForCausalLM::hidden`]). For probing a layer, pooling embeddings, or
    /// comparing this model's arithmetic with another implementation's layer by layer.
    ///
    /// # Errors
    /// As [`LlamaForCausalLM::hidden`].
    pub fn hidden_states(
        &self,
        ids: &[Vec<u32>],
        cache: Option<&mut KvCache>,
        device: &Device,
    ) -> Result<Vec<Tensor<3>>> {
        let mut states = Vec::with_capacity(self.layers.len() + 1);
        let last = self.run_layers(ids, cache, device, Some(&mut states))?;
        states.pop();
        states.push(last);
        Ok(states)
    }

    fn run_layers(
        &self,
        ids: &[Vec<u32>],
        mut cache: Option<&mut KvCache>,
        device: &Device,
        mut states: Option<&mut Vec<Tensor<3>>>,
    ) -> Result<Tensor<3>> {
        let s = ids.iter().map(Vec::len).max().unwrap_or(0);
        if ids.iter().any(Vec::is_empty) || ids.is_empty() {
            return Err(Error::Input {
                reason: "an empty batch or row of token ids".into(),
            });
        }
        let start = cache.as_ref().map_or(0, |c| c.len);
        let pads: Vec<usize> = match cache.as_deref() {
            Some(c) if !c.is_empty() => {
                if c.pads.len() != ids.len() || ids.iter().any(|r| r.len() != s) {
                    return Err(Error::Input {
                        reason: format!(
                            "a cache of {} rows continued with {} rows that must be of one length",
                            c.pads.len(),
                            ids.len()
                        ),
                    });
                }
                c.pads.clone()
            }
            _ => ids.iter().map(|r| s - r.len()).collect(),
        };
        let padded: Vec<Vec<u32>> = ids
            .iter()
            .zip(&pads)
            .map(|(r, &p)| {
                let mut row = if start == 0 {
                    vec![r[0]; p]
                } else {
                    Vec::new()
                };
                row.extend(r);
                row
            })
            .collect();
        let pos = Positions::new(
            start,
            s,
            &pads,
            self.config.head_dim(),
            self.config.rope_theta,
            self.llama_cpp && !device.is_autodiff(),
            device,
        );
        let mut x = self.embed_tokens.forward(&padded, device)?;
        if let Some(c) = cache.as_deref_mut() {
            c.layers.resize(self.layers.len(), None);
            c.pads = pads;
        }
        for (i, layer) in self.layers.iter().enumerate() {
            if let Some(states) = states.as_deref_mut() {
                states.push(x.clone());
            }
            let slot = cache.as_deref_mut().map(|c| &mut c.layers[i]);
            x = layer.forward(x, slot, &pos);
        }
        if let Some(states) = states {
            states.push(x.clone());
        }
        if let Some(c) = cache {
            c.len += s;
        }
        Ok(self.norm.forward_sum(x, pos.llama_cpp))
    }

    /// The final hidden states `[1, seq, hidden]` of sequences of `lengths` packed back
    /// to back into one row `ids` without padding (TRL's `padding_free`, FlashAttention's
    /// varlen): each sequence's positions restart at 0 and it attends only to itself, so
    /// every sequence's states are those it has alone. For training; no cache.
    ///
    /// # Errors
    /// [`Error::Input`] when `lengths` (none of them 0) do not add up to `ids.len()`, or
    /// for ids outside the vocabulary.
    pub fn hidden_packed(
        &self,
        ids: &[u32],
        lengths: &[usize],
        device: &Device,
    ) -> Result<Tensor<3>> {
        if ids.is_empty() || lengths.contains(&0) || lengths.iter().sum::<usize>() != ids.len() {
            return Err(Error::Input {
                reason: format!("{} packed tokens in sequences of {lengths:?}", ids.len()),
            });
        }
        let pos = Positions::packed(
            lengths,
            self.config.head_dim(),
            self.config.rope_theta,
            device,
        );
        let mut x = self.embed_tokens.forward(&[ids.to_vec()], device)?;
        for layer in &self.layers {
            x = layer.forward(x, None, &pos);
        }
        Ok(self.norm.forward_sum(x, false))
    }

    /// Logits `[batch, seq, vocab]` of `ids` (see [`LlamaForCausalLM::hidden`]).
    ///
    /// # Errors
    /// As [`LlamaForCausalLM::hidden`].
    pub fn forward(
        &self,
        ids: &[Vec<u32>],
        cache: Option<&mut KvCache>,
        device: &Device,
    ) -> Result<Tensor<3>> {
        Ok(self.lm_head.forward(self.hidden(ids, cache, device)?))
    }

    /// Logits of the last position only, `[batch, vocab]` (what generation needs).
    ///
    /// # Errors
    /// As [`LlamaForCausalLM::hidden`].
    pub fn forward_last(
        &self,
        ids: &[Vec<u32>],
        cache: Option<&mut KvCache>,
        device: &Device,
    ) -> Result<Tensor<2>> {
        let h = self.hidden(ids, cache, device)?;
        let [b, s, d] = h.dims();
        let last = h.narrow(1, s - 1, 1).reshape([b, d]);
        Ok(self.lm_head.forward(last))
    }
}

/// PEFT's module names, and llama.cpp's tensor names for GGUF adapters and models, of a
/// decoder layer's projections in `q, k, v, o, gate, up, down` order.
pub(crate) const PROJ: [(&str, &str); 7] = [
    ("self_attn.q_proj", "attn_q"),
    ("self_attn.k_proj", "attn_k"),
    ("self_attn.v_proj", "attn_v"),
    ("self_attn.o_proj", "attn_output"),
    ("mlp.gate_proj", "ffn_gate"),
    ("mlp.up_proj", "ffn_up"),
    ("mlp.down_proj", "ffn_down"),
];

impl LoraModel for LlamaForCausalLM {
    fn lora_layers(&self) -> Vec<(String, &LoraLinear)> {
        let mut out = Vec::new();
        for (i, l) in self.layers.iter().enumerate() {
            let projs = [
                &l.self_attn.q_proj,
                &l.self_attn.k_proj,
                &l.self_attn.v_proj,
                &l.self_attn.o_proj,
                &l.mlp.gate_proj,
                &l.mlp.up_proj,
                &l.mlp.down_proj,
            ];
            for ((name, _), p) in PROJ.iter().zip(projs) {
                out.push((format!("model.layers.{i}.{name}"), p));
            }
        }
        if !self.tied {
            out.push(("lm_head".into(), &self.lm_head));
        }
        out
    }

    fn lora_layers_mut(&mut self) -> Vec<(String, &mut LoraLinear)> {
        let mut out = Vec::new();
        for (i, l) in self.layers.iter_mut().enumerate() {
            let a = &mut l.self_attn;
            let m = &mut l.mlp;
            let projs = [
                &mut a.q_proj,
                &mut a.k_proj,
                &mut a.v_proj,
                &mut a.o_proj,
                &mut m.gate_proj,
                &mut m.up_proj,
                &mut m.down_proj,
            ];
            for ((name, _), p) in PROJ.iter().zip(projs) {
                out.push((format!("model.layers.{i}.{name}"), p));
            }
        }
        if !self.tied {
            out.push(("lm_head".into(), &mut self.lm_head));
        }
        out
    }

    fn gguf_architecture(&self) -> Option<String> {
        Some("llama".into())
    }

    fn gguf_tensor_name(&self, path: &str) -> Option<String> {
        if path == "lm_head" {
            return Some("output.weight".into());
        }
        let rest = path.strip_prefix("model.layers.")?;
        let (i, name) = rest.split_once('.')?;
        let (_, g) = PROJ.iter().find(|(n, _)| *n == name)?;
        Some(format!("blk.{i}.{g}.weight"))
    }

    fn gguf_lora_b(&self, path: &str, b: Tensor<2>, to_gguf: bool) -> Tensor<2> {
        let heads = if path.ends_with("q_proj") {
            self.config.num_attention_heads
        } else if path.ends_with("k_proj") {
            self.config.num_key_value_heads
        } else {
            return b;
        };
        let out = b.dims()[1];
        let order = crate::gguf_load::rope_rows(out, heads, to_gguf);
        let idx = Tensor::<1, Int>::from_data(
            TensorData::new(order.iter().map(|&i| i as i64).collect(), [out]),
            &b.device(),
        );
        b.select(1, idx)
    }
}
