//! Grouped-query self-attention with rotary positions, in burn's ops or in llama.cpp's
//! arithmetic (`crate::ggml_ops`).

use burn::module::Module;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};
use whet_core::burn;
use whet_core::lora::LoraLinear;

use crate::ggml_ops;
use crate::kv_cache::LayerCache;

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
    pub(crate) heads: usize,
    #[module(skip)]
    pub(crate) kv_heads: usize,
}

/// Where each row's tokens sit: rotary tables `[rows, s, head_dim / 2]` (rows is 1 when
/// every row shares its positions) and the additive attention mask `[rows, 1, s, t]`
/// (`None` when a single new position may see everything before it).
pub(crate) struct Positions {
    cos: Tensor<3>,
    sin: Tensor<3>,
    mask: Option<Tensor<4>>,
    /// Compute as llama.cpp's CPU backend does (`crate::ggml_ops`).
    pub(crate) llama_cpp: bool,
    /// With `llama_cpp`, the rotary tables on the host, `[rows, s, head_dim / 2]`.
    host: (Vec<f32>, Vec<f32>),
    /// Each row's padding.
    pads: Vec<usize>,
}

impl Positions {
    /// Positions `start..start + s` of rows whose first `pads[r]` positions are padding;
    /// `llama_cpp` computes the rotary angles and the attention as llama.cpp's CPU
    /// backend does.
    pub(crate) fn new(
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
                    hf_rope_angles(p, head_dim, theta, &mut cos, &mut sin);
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
        // llama.cpp's arithmetic masks by position itself (`ggml_ops::attention`).
        let mask = (!llama_cpp && (s > 1 || padded)).then(|| {
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

/// The rotary cosines and sines of position `p` as transformers computes them (inverse
/// frequencies and angles in f32), appended to `cos` and `sin` (`head_dim / 2` each).
fn hf_rope_angles(p: usize, head_dim: usize, theta: f64, cos: &mut Vec<f32>, sin: &mut Vec<f32>) {
    for i in 0..head_dim / 2 {
        let inv = 1.0 / (theta as f32).powf((2 * i) as f32 / head_dim as f32);
        let angle = p as f32 * inv;
        cos.push(angle.cos());
        sin.push(angle.sin());
    }
}

impl Positions {
    /// One row holding sequences of `lengths` back to back (padding-free packing): each
    /// one's positions start at 0 and it attends only within itself, causally; in
    /// transformers' arithmetic (for training).
    pub(crate) fn packed(lengths: &[usize], head_dim: usize, theta: f64, device: &Device) -> Self {
        let s: usize = lengths.iter().sum();
        let half = head_dim / 2;
        let (mut cos, mut sin) = (Vec::with_capacity(s * half), Vec::with_capacity(s * half));
        // Each position's sequence start.
        let mut starts = Vec::with_capacity(s);
        let mut at = 0;
        for &len in lengths {
            for p in 0..len {
                starts.push(at);
                hf_rope_angles(p, head_dim, theta, &mut cos, &mut sin);
            }
            at += len;
        }
        let mut m = Vec::with_capacity(s * s);
        for (a, &start) in starts.iter().enumerate() {
            m.extend((0..s).map(|j| {
                if j <= a && j >= start {
                    0.0
                } else {
                    f32::NEG_INFINITY
                }
            }));
        }
        let t3 = |v| Tensor::from_data(TensorData::new(v, [1, s, half]), device);
        Positions {
            cos: t3(cos),
            sin: t3(sin),
            mask: Some(Tensor::<4>::from_data(
                TensorData::new(m, [1, 1, s, s]),
                device,
            )),
            llama_cpp: false,
            host: Default::default(),
            pads: vec![0],
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
    pub(crate) fn forward(
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
