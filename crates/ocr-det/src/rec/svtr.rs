//! The SVTR neck of PP-OCRv4's recognizer (`EncoderWithSVTR`): local convolutions, two
//! global-attention transformer blocks over the time steps, and a convolutional fusion
//! with the backbone's features.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, LayerNorm, Linear};
use burn::tensor::Tensor;
use burn::tensor::activation::{sigmoid, softmax};

use crate::conv::conv2d;
use crate::error::Result;
use crate::graph::Cursor;

fn swish<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    x.clone().mul(sigmoid(x))
}

/// Convolution (no bias), batch norm, swish.
#[derive(Module, Debug)]
pub struct ConvBnSwish {
    /// The convolution.
    pub conv: Conv2d,
    /// Its batch norm.
    pub bn: BatchNorm,
}

impl ConvBnSwish {
    /// `[N, C_in, H, W]` -> `[N, C_out, H, W]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        swish(self.bn.forward(conv2d(&self.conv, x)))
    }

    fn read(g: &mut Cursor<'_>) -> Result<Self> {
        let conv = g.conv()?;
        let bn = g.batch_norm()?;
        g.swish()?;
        Ok(ConvBnSwish { conv, bn })
    }
}

/// Multi-head self-attention over the time steps.
#[derive(Module, Debug)]
pub struct Attention {
    /// `C -> 3C` (queries, keys, values).
    pub qkv: Linear,
    /// `C -> C`.
    pub proj: Linear,
    /// Number of heads.
    #[module(skip)]
    pub heads: usize,
    /// Query scale (`head_dim^-1/2`).
    #[module(skip)]
    pub scale: f64,
}

impl Attention {
    /// `[N, T, C]` -> `[N, T, C]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [n, t, c] = x.dims();
        let hd = c / self.heads;
        let qkv = self
            .qkv
            .forward(x)
            .reshape([n, t, 3, self.heads, hd])
            .permute([2, 0, 3, 1, 4]);
        let part = |i: usize| -> Tensor<4> {
            qkv.clone()
                .slice([i..i + 1, 0..n, 0..self.heads, 0..t, 0..hd])
                .reshape([n, self.heads, t, hd])
        };
        let (q, k, v) = (part(0).mul_scalar(self.scale), part(1), part(2));
        let attn = softmax(q.matmul(k.swap_dims(2, 3)), 3);
        let out = attn.matmul(v).swap_dims(1, 2).reshape([n, t, c]);
        self.proj.forward(out)
    }

    fn read(g: &mut Cursor<'_>) -> Result<Self> {
        g.skip_plumbing();
        let qkv = g.linear()?;
        g.skip_plumbing();
        let mul = g.expect("Mul")?;
        let scale = f64::from(g.scalar_input(mul)?);
        // Newer exports add 0 after the scaling.
        if g.next_is("Add") {
            let add = g.expect("Add")?;
            if g.scalar_input(add)? != 0.0 {
                return Err(g.fail("the query's scaling adds something other than 0"));
            }
        }
        g.skip_plumbing();
        g.expect("MatMul")?;
        g.expect("Softmax")?;
        g.expect("MatMul")?;
        g.skip_plumbing();
        let proj = g.linear()?;
        let [_, c] = proj.weight.dims();
        // scale = head_dim^-1/2
        let hd = (1.0 / (scale * scale)).round() as usize;
        let heads = if hd > 0 && c % hd == 0 { c / hd } else { 0 };
        if heads == 0 {
            return Err(g.fail(format!(
                "attention scale {scale} does not divide {c} channels into heads"
            )));
        }
        Ok(Attention {
            qkv,
            proj,
            heads,
            scale,
        })
    }
}

/// Pre-norm transformer block: `x + attn(ln1(x))`, then `x + mlp(ln2(x))` (swish MLP).
#[derive(Module, Debug)]
pub struct Block {
    /// Epsilon of both layer norms.
    #[module(skip)]
    pub norm_epsilon: f64,
    /// Norm before attention.
    pub norm1: LayerNorm,
    /// Attention.
    pub attn: Attention,
    /// Norm before the MLP.
    pub norm2: LayerNorm,
    /// `C -> 2C`.
    pub fc1: Linear,
    /// `2C -> C`.
    pub fc2: Linear,
}

impl Block {
    /// `[N, T, C]` -> `[N, T, C]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let x = x.clone().add(self.attn.forward(self.norm1.forward(x)));
        let h = self
            .fc2
            .forward(swish(self.fc1.forward(self.norm2.forward(x.clone()))));
        x.add(h)
    }

    fn read(g: &mut Cursor<'_>) -> Result<Self> {
        let (norm1, norm_epsilon) = g.layer_norm()?;
        let attn = Attention::read(g)?;
        g.expect("Add")?;
        let (norm2, _) = g.layer_norm()?;
        let fc1 = g.linear()?;
        g.swish()?;
        let fc2 = g.linear()?;
        g.expect("Add")?;
        Ok(Block {
            norm_epsilon,
            norm1,
            attn,
            norm2,
            fc1,
            fc2,
        })
    }
}

/// `EncoderWithSVTR`.
#[derive(Module, Debug)]
pub struct SvtrNeck {
    /// Epsilon of the final layer norm.
    #[module(skip)]
    pub norm_epsilon: f64,
    /// `480 -> 60`, kernel `1 x 3`.
    pub conv1: ConvBnSwish,
    /// `60 -> 120`, `1 x 1`.
    pub conv2: ConvBnSwish,
    /// The transformer blocks.
    pub blocks: Vec<Block>,
    /// Final norm.
    pub norm: LayerNorm,
    /// `120 -> 480`, `1 x 1`.
    pub conv3: ConvBnSwish,
    /// `960 -> 60` on the backbone map and `conv3`'s, kernel `1 x 3`.
    pub conv4: ConvBnSwish,
    /// `60 -> 120`, `1 x 1`.
    pub conv1x1: ConvBnSwish,
}

impl SvtrNeck {
    /// `[N, 480, 1, T]` -> `[N, T, 120]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<3> {
        let h = x.clone();
        let z = self.conv2.forward(self.conv1.forward(x));
        let [n, c, hh, w] = z.dims();
        let mut seq = z.reshape([n, c, hh * w]).swap_dims(1, 2);
        for b in &self.blocks {
            seq = b.forward(seq);
        }
        let seq = self.norm.forward(seq);
        let z = seq.reshape([n, hh, w, c]).permute([0, 3, 1, 2]);
        let z = self.conv3.forward(z);
        let z = self.conv4.forward(Tensor::cat(vec![h, z], 1));
        let z = self.conv1x1.forward(z);
        let [n, c, _, w] = z.dims();
        z.reshape([n, c, w]).swap_dims(1, 2)
    }

    pub(crate) fn read(g: &mut Cursor<'_>) -> Result<Self> {
        let conv1 = ConvBnSwish::read(g)?;
        let conv2 = ConvBnSwish::read(g)?;
        g.skip_plumbing();
        let blocks = read_blocks(g)?;
        let (norm, norm_epsilon) = g.layer_norm()?;
        g.skip_plumbing();
        let conv3 = ConvBnSwish::read(g)?;
        g.expect("Concat")?;
        let conv4 = ConvBnSwish::read(g)?;
        let conv1x1 = ConvBnSwish::read(g)?;
        g.skip_plumbing();
        Ok(SvtrNeck {
            norm_epsilon,
            conv1,
            conv2,
            blocks,
            norm,
            conv3,
            conv4,
            conv1x1,
        })
    }
}

/// PP-OCRv6's recognizer neck: a `1 x 1` shortcut beside a `1 x 1` and a `1 x 7`
/// depthwise local branch (summed), global-attention blocks over the time steps, and the
/// shortcut added back. Every convolution with batch norm and swish.
#[derive(Module, Debug)]
pub struct ShortcutSvtrNeck {
    /// The final norm's epsilon.
    #[module(skip)]
    pub norm_epsilon: f64,
    /// `1 x 1`, `C_in -> D`: the shortcut.
    pub shortcut: ConvBnSwish,
    /// `1 x 1`, `C_in -> D`.
    pub local: ConvBnSwish,
    /// `1 x 7` depthwise over `local`'s output, added to it.
    pub local_dw: ConvBnSwish,
    /// Transformer blocks.
    pub blocks: Vec<Block>,
    /// The final norm.
    pub norm: LayerNorm,
}

impl ShortcutSvtrNeck {
    /// `x`: `[N, C_in, 1, T]` -> `[N, T, D]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<3> {
        let short = self.shortcut.forward(x.clone());
        let z = self.local.forward(x);
        let z = z.clone().add(self.local_dw.forward(z));
        let [n, c, hh, w] = z.dims();
        let mut seq = z.reshape([n, c, hh * w]).swap_dims(1, 2);
        for b in &self.blocks {
            seq = b.forward(seq);
        }
        let seq = self.norm.forward(seq);
        let z = seq.reshape([n, hh, w, c]).permute([0, 3, 1, 2]).add(short);
        z.reshape([n, c, hh * w]).swap_dims(1, 2)
    }

    pub(crate) fn read(g: &mut Cursor<'_>) -> Result<Self> {
        let shortcut = ConvBnSwish::read(g)?;
        let local = ConvBnSwish::read(g)?;
        let local_dw = ConvBnSwish::read(g)?;
        g.expect("Add")?;
        g.skip_plumbing();
        let blocks = read_blocks(g)?;
        let (norm, norm_epsilon) = g.layer_norm()?;
        g.skip_plumbing();
        g.expect("Add")?;
        g.skip_plumbing();
        Ok(ShortcutSvtrNeck {
            norm_epsilon,
            shortcut,
            local,
            local_dw,
            blocks,
            norm,
        })
    }
}

/// The transformer blocks up to the neck's final norm.
fn read_blocks(g: &mut Cursor<'_>) -> Result<Vec<Block>> {
    let mut blocks = Vec::new();
    while g.next_are(&["ReduceMean", "Sub"]) && blocks.len() < 16 {
        // A block starts with a norm; the final norm is followed by plumbing, not
        // attention, which `Block::read` would refuse: look ahead past the norm.
        if !g.norm_then_attention() {
            break;
        }
        blocks.push(Block::read(g)?);
    }
    Ok(blocks)
}
