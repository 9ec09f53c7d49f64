//! The Llama-family decoder as burn modules, with Hugging Face's names.

use burn::module::{Module, Param};
use burn::tensor::activation::{silu, softmax};
use burn::tensor::{DType, Device, Int, Tensor, TensorData};
use whet_core::burn;
use whet_core::lora::{LoraLinear, LoraModel};
use whet_core::quant::PackedMatrix;

use crate::config::LlamaConfig;
use crate::error::{Error, Result};
use crate::ggml_ops;

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

/// Grouped-query self-attention with rotary positions.
#[derive(Module, Debug)]
pub struct Attention {
    /// `[hidden] -> [heads * head_dim]`.
    pub q_proj: LoraLinear,
    /// `[hidden] -> [kv_heads * head_dim]`.
    pub k_proj: LoraLinear,
    /// `[hidden] -> [kv_heads * head_dim]`.
    pub v_proj: LoraLinear,
    /// `[heads * head_dim] -> [hidden]`.
    pub o_proj: LoraLinear,
    #[module(skip)]
    heads: usize,
    #[module(skip)]
    kv_heads: usize,
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

/// Keys and values of the positions seen so far, per layer: generation feeds one new
/// token at a time. A batch of prompts of different lengths is left-padded on its first
/// call; the cache remembers each row's padding so later calls mask it.
#[derive(Debug, Clone, Default)]
pub struct KvCache {
    layers: Vec<Option<LayerCache>>,
    len: usize,
    pads: Vec<usize>,
}

/// One layer's cached keys and values.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one per layer; boxing would cost an allocation a step
enum LayerCache {
    /// `[batch, kv_heads, t, head_dim]` each.
    Tensors(Tensor<4>, Tensor<4>),
    /// llama.cpp's arithmetic: per row and key/value head (`row * kv_heads + head`),
    /// `[t, head_dim]` keys and values, rounded to f16.
    Host(Vec<Vec<f32>>, Vec<Vec<f32>>),
}

impl KvCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Positions cached (padding included).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Rows cached.
    pub fn batch(&self) -> usize {
        self.pads.len()
    }

    /// Keeps only these rows (in this order), so finished sequences stop costing time.
    ///
    /// # Errors
    /// [`Error::Input`] for a row outside the cache.
    pub fn keep_rows(&mut self, rows: &[usize]) -> Result<()> {
        if let Some(&bad) = rows.iter().find(|&&r| r >= self.pads.len()) {
            return Err(Error::Input {
                reason: format!("row {bad} of a cache of {} rows", self.pads.len()),
            });
        }
        let old = self.pads.len();
        self.pads = rows.iter().map(|&r| self.pads[r]).collect();
        for layer in self.layers.iter_mut().flatten() {
            match layer {
                LayerCache::Tensors(k, v) => {
                    let device = k.device();
                    let idx = Tensor::<1, Int>::from_data(
                        TensorData::new(rows.iter().map(|&r| r as i64).collect(), [rows.len()]),
                        &device,
                    );
                    *k = k.clone().select(0, idx.clone());
                    *v = v.clone().select(0, idx);
                }
                LayerCache::Host(k, v) => {
                    let heads = k.len() / old.max(1);
                    let pick = |x: &[Vec<f32>]| -> Vec<Vec<f32>> {
                        rows.iter()
                            .flat_map(|&r| x[r * heads..(r + 1) * heads].iter().cloned())
                            .collect()
                    };
                    (*k, *v) = (pick(k), pick(v));
                }
            }
        }
        Ok(())
    }
}

/// Where each row's tokens sit: rotary tables `[rows, s, head_dim / 2]` (rows is 1 when
/// every row shares its positions) and the additive attention mask `[rows, 1, s, t]`
/// (`None` when a single new position may see everything before it).
struct Positions {
    cos: Tensor<3>,
    sin: Tensor<3>,
    mask: Option<Tensor<4>>,
    /// Compute as llama.cpp's CPU backend does (`crate::ggml_ops`).
    llama_cpp: bool,
    /// With `llama_cpp`, the rotary tables on the host, `[rows, s, head_dim / 2]`.
    host: (Vec<f32>, Vec<f32>),
    /// Each row's padding.
    pads: Vec<usize>,
}

impl Positions {
    /// Positions `start..start + s` of rows whose first `pads[r]` positions are padding;
    /// `llama_cpp` computes the rotary angles and the attention as llama.cpp's CPU
    /// backend does.
    fn new(
        start: usize,
        s: usize,
        pads: &[usize],
        head_dim: usize,
        theta: f64,
        llama_cpp: bool,
        device: &Device,
    ) -> Self {
        let padded = pads.iter().any(|&p| p > 0);
        let rows: Vec<usize> = if padded { pads.to_vec() } else { vec![0] };
        let half = head_dim / 2;
        let (mut cos, mut sin) = (Vec::new(), Vec::new());
        for &pad in &rows {
            for a in start..start + s {
                let p = a.saturating_sub(pad);
                if llama_cpp {
                    ggml_ops::rope_table(p, half, theta as f32, &mut cos, &mut sin);
                } else {
                    for i in 0..half {
                        // HF computes inv_freq in f32 and the angle in f32: so do we.
                        let inv = 1.0 / (theta as f32).powf((2 * i) as f32 / head_dim as f32);
                        let angle = p as f32 * inv;
                        cos.push(angle.cos());
                        sin.push(angle.sin());
                    }
                }
            }
        }
        let n = rows.len();
        let host = if llama_cpp {
            (cos.clone(), sin.clone())
        } else {
            Default::default()
        };
        let t3 = |v| Tensor::from_data(TensorData::new(v, [n, s, half]), device);
        let t = start + s;
        let mask = (s > 1 || padded).then(|| {
            let mut m = Vec::with_capacity(n * s * t);
            for &pad in &rows {
                for a in start..start + s {
                    // Causal, and padding hidden from every position but itself (a
                    // padding query that saw nothing would make NaNs).
                    m.extend((0..t).map(|j| {
                        if j <= a && (j >= pad || j == a) {
                            0.0
                        } else {
                            f32::NEG_INFINITY
                        }
                    }));
                }
            }
            Tensor::<4>::from_data(TensorData::new(m, [n, 1, s, t]), device)
        });
        Positions {
            cos: t3(cos),
            sin: t3(sin),
            mask,
            llama_cpp,
            host,
            pads: pads.to_vec(),
        }
    }
}

/// `[b, h, s, d]` rotated by position (Hugging Face's `rotate_half` layout); `cos`, `sin`
/// `[b or 1, s, d / 2]`.
fn rope(x: Tensor<4>, cos: &Tensor<3>, sin: &Tensor<3>) -> Tensor<4> {
    let d = x.dims()[3];
    let half = d / 2;
    let cos = Tensor::cat(vec![cos.clone(), cos.clone()], 2).unsqueeze_dim::<4>(1);
    let sin = Tensor::cat(vec![sin.clone(), sin.clone()], 2).unsqueeze_dim::<4>(1);
    let x1 = x.clone().narrow(3, 0, half);
    let x2 = x.clone().narrow(3, half, half);
    let rotated = Tensor::cat(vec![x2.neg(), x1], 3);
    x * cos + rotated * sin
}

impl Attention {
    fn forward(
        &self,
        x: Tensor<3>,
        cache: Option<&mut Option<LayerCache>>,
        pos: &Positions,
    ) -> Tensor<3> {
        if pos.llama_cpp {
            return self.forward_ggml(x, cache, pos);
        }
        let [b, s, _] = x.dims();
        let hd = self.q_proj.dims()[1] / self.heads;
        let split = |t: Tensor<3>, h: usize| t.reshape([b, s, h, hd]).swap_dims(1, 2);
        let q = split(self.q_proj.forward(x.clone()), self.heads);
        let k = split(self.k_proj.forward(x.clone()), self.kv_heads);
        let v = split(self.v_proj.forward(x), self.kv_heads);
        let (q, mut k, mut v) = (rope(q, &pos.cos, &pos.sin), rope(k, &pos.cos, &pos.sin), v);
        if let Some(slot) = cache {
            if let Some(LayerCache::Tensors(pk, pv)) = slot.take() {
                k = Tensor::cat(vec![pk, k], 2);
                v = Tensor::cat(vec![pv, v], 2);
            }
            *slot = Some(LayerCache::Tensors(k.clone(), v.clone()));
        }
        // Grouped-query attention without copying keys and values per query head: the
        // `rep` query heads that share a key/value head are stacked along the sequence
        // axis, `[b, kv_heads, rep * s, d]` (query head `h` reads key/value head
        // `h / rep`, as transformers' `repeat_kv` has it).
        let rep = self.heads / self.kv_heads;
        let q = q.reshape([b, self.kv_heads, rep * s, hd]);
        let mut scores = q.matmul(k.swap_dims(2, 3)).div_scalar((hd as f64).sqrt());
        if let Some(mask) = &pos.mask {
            let mask = if rep == 1 {
                mask.clone()
            } else {
                Tensor::cat(vec![mask.clone(); rep], 2)
            };
            scores = scores + mask;
        }
        let weights = softmax(scores, 3);
        let out = weights.matmul(v).reshape([b, self.heads, s, hd]);
        self.o_proj
            .forward(out.swap_dims(1, 2).reshape([b, s, self.heads * hd]))
    }
}

impl Attention {
    /// [`Attention::forward`] in llama.cpp's arithmetic ([`ggml_ops`]), the keys and
    /// values cached on the host.
    fn forward_ggml(
        &self,
        x: Tensor<3>,
        cache: Option<&mut Option<LayerCache>>,
        pos: &Positions,
    ) -> Tensor<3> {
        let [b, s, _] = x.dims();
        let device = x.device();
        let (heads, kv_heads) = (self.heads, self.kv_heads);
        let hd = self.q_proj.dims()[1] / heads;
        let half = hd / 2;
        let host = |t: Tensor<3>| {
            t.into_data()
                .try_into_vec::<f32>()
                .expect("f32 activations")
        };
        let (q_in, k_in) = (
            host(self.q_proj.forward(x.clone())),
            host(self.k_proj.forward(x.clone())),
        );
        let v = host(self.v_proj.forward(x));
        let (mut q, mut k) = (vec![0f32; q_in.len()], vec![0f32; k_in.len()]);
        let shared = pos.host.0.len() == s * half;
        for r in 0..b {
            for i in 0..s {
                let at = (if shared { i } else { r * s + i }) * half;
                let (cos, sin) = (&pos.host.0[at..at + half], &pos.host.1[at..at + half]);
                let rows = (r * s + i) * heads * hd..(r * s + i + 1) * heads * hd;
                for (x, out) in q_in[rows.clone()]
                    .chunks_exact(hd)
                    .zip(q[rows].chunks_exact_mut(hd))
                {
                    ggml_ops::rope_head(x, cos, sin, out);
                }
                let rows = (r * s + i) * kv_heads * hd..(r * s + i + 1) * kv_heads * hd;
                for (x, out) in k_in[rows.clone()]
                    .chunks_exact(hd)
                    .zip(k[rows].chunks_exact_mut(hd))
                {
                    ggml_ops::rope_head(x, cos, sin, out);
                }
            }
        }
        let mut local = None;
        let slot = cache.unwrap_or(&mut local);
        if !matches!(slot, Some(LayerCache::Host(..))) {
            *slot = Some(LayerCache::Host(
                vec![Vec::new(); b * kv_heads],
                vec![Vec::new(); b * kv_heads],
            ));
        }
        let Some(LayerCache::Host(ck, cv)) = slot else {
            unreachable!("set above")
        };
        for r in 0..b {
            for i in 0..s {
                for g in 0..kv_heads {
                    let at = ((r * s + i) * kv_heads + g) * hd;
                    ck[r * kv_heads + g].extend_from_slice(&k[at..at + hd]);
                    cv[r * kv_heads + g]
                        .extend(v[at..at + hd].iter().map(|&x| ggml_ops::round_f16(x)));
                }
            }
        }
        let t = ck[0].len() / hd;
        let shape = ggml_ops::AttentionShape {
            batch: b,
            s,
            t,
            heads,
            kv_heads,
            hd,
        };
        let out = ggml_ops::attention(&q, ck, cv, &pos.pads, &shape);
        let out = Tensor::from_data(TensorData::new(out, [b, s, heads * hd]), &device);
        self.o_proj.forward(out)
    }
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

/// PEFT's module names, and llama.cpp's tensor names for GGUF adapters.
const PROJ: [(&str, &str); 7] = [
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
