//! PP-OCRv6's backbone in its inference (re-parameterised, batch norms folded) form:
//! HGNetV2's stem, then RepViT-style blocks — a depthwise `3 x 3` token mixer (its
//! identity and `1 x 1` branches already fused into it), an optional squeeze-excitation,
//! and a `1 x 1` expand, GELU, `1 x 1` project channel mixer with a residual where the
//! shape allows. The detector takes four maps (strides 4 to 32); the recognizer, whose
//! later strides are vertical only, the last one.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::tensor::Tensor;
use burn::tensor::activation::{gelu, relu};

use super::layers::SqueezeExcite;
use crate::conv::conv2d;
use crate::error::Result;
use crate::graph::Cursor;

/// HGNetV2's stem: `3 x 3` stride-2 conv; from it a `2 x 2` max pool (stride 1, padded at
/// the end) beside two `2 x 2` convs, concatenated; a `3 x 3` stride-2 conv and a `1 x 1`
/// conv. Every conv with bias and ReLU.
#[derive(Module, Debug)]
pub struct HgStem {
    /// `3 -> C/2`, `3 x 3`, stride 2.
    pub stem1: Conv2d,
    /// `C/2 -> C/4`, `2 x 2` (padded right and bottom).
    pub stem2a: Conv2d,
    /// `C/4 -> C/2`, `2 x 2` (padded right and bottom).
    pub stem2b: Conv2d,
    /// `C -> C/2`, `3 x 3`, stride 2.
    pub stem3: Conv2d,
    /// `C/2 -> C_out`, `1 x 1`.
    pub stem4: Conv2d,
}

impl HgStem {
    /// `[N, 3, H, W]` -> `[N, C_out, H / 4, W / 4]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = relu(conv2d(&self.stem1, x));
        let branch = relu(conv2d(&self.stem2a, x.clone()));
        let branch = relu(conv2d(&self.stem2b, branch));
        let pooled = max_pool_2x2_same(x);
        let x = relu(conv2d(&self.stem3, Tensor::cat(vec![pooled, branch], 1)));
        relu(conv2d(&self.stem4, x))
    }

    fn read(g: &mut Cursor<'_>) -> Result<Self> {
        let conv_relu = |g: &mut Cursor<'_>| -> Result<Conv2d> {
            let c = g.conv()?;
            g.expect("Relu")?;
            Ok(c)
        };
        let stem1 = conv_relu(g)?;
        let stem2a = conv_relu(g)?;
        let stem2b = conv_relu(g)?;
        g.expect("MaxPool")?;
        g.expect("Concat")?;
        let stem3 = conv_relu(g)?;
        let stem4 = conv_relu(g)?;
        Ok(HgStem {
            stem1,
            stem2a,
            stem2b,
            stem3,
            stem4,
        })
    }
}

/// ONNX `MaxPool` with a `2 x 2` kernel, stride 1 and `SAME_UPPER` padding: each pixel
/// the maximum of itself and its right, lower and lower-right neighbours, the last row
/// and column repeated (a repeated value cannot change a maximum, as the ignored padding
/// would not).
fn max_pool_2x2_same(x: Tensor<4>) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    let right = if w > 1 {
        Tensor::cat(
            vec![
                x.clone().slice([0..n, 0..c, 0..h, 1..w]),
                x.clone().slice([0..n, 0..c, 0..h, w - 1..w]),
            ],
            3,
        )
    } else {
        x.clone()
    };
    let x = x.max_pair(right);
    let down = if h > 1 {
        Tensor::cat(
            vec![
                x.clone().slice([0..n, 0..c, 1..h, 0..w]),
                x.clone().slice([0..n, 0..c, h - 1..h, 0..w]),
            ],
            2,
        )
    } else {
        x.clone()
    };
    x.max_pair(down)
}

/// One block: depthwise conv (with bias; stride 1 or 2, or `[2, 1]` in the recognizer),
/// optional squeeze-excitation, then `y = t + project(gelu(expand(t)))` (no residual
/// where the block changes the shape).
#[derive(Module, Debug)]
pub struct RepVitBlock {
    /// Depthwise `3 x 3` token mixer.
    pub dw: Conv2d,
    /// Squeeze-excitation after it.
    pub se: Option<SqueezeExcite>,
    /// `1 x 1`, `C -> 2C` (or `C -> C_out` at a stride-2 block).
    pub expand: Conv2d,
    /// `1 x 1` back.
    pub project: Conv2d,
    /// Whether the channel mixer's input is added to its output.
    #[module(skip)]
    pub residual: bool,
}

impl RepVitBlock {
    /// `[N, C, H, W]` -> `[N, C_out, H / s_h, W / s_w]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut t = conv2d(&self.dw, x);
        if let Some(se) = &self.se {
            t = se.forward(t);
        }
        let y = conv2d(&self.project, gelu(conv2d(&self.expand, t.clone())));
        if self.residual { t.add(y) } else { y }
    }

    fn read(g: &mut Cursor<'_>) -> Result<Self> {
        let dw = g.conv()?;
        let se = if g.next_is("ReduceMean") || g.next_is("GlobalAveragePool") {
            Some(SqueezeExcite::read(g)?)
        } else {
            None
        };
        let expand = g.conv()?;
        g.gelu()?;
        let project = g.conv()?;
        let residual = g.next_is("Add");
        if residual {
            g.expect("Add")?;
        }
        Ok(RepVitBlock {
            dw,
            se,
            expand,
            project,
            residual,
        })
    }

    /// The depthwise conv's stride.
    pub fn stride(&self) -> [usize; 2] {
        self.dw.stride
    }
}

/// The backbone: stem and blocks. Stages end where a strided block begins.
#[derive(Module, Debug)]
pub struct RepVitNet {
    /// The stem.
    pub stem: HgStem,
    /// All blocks in order.
    pub blocks: Vec<RepVitBlock>,
}

impl RepVitNet {
    /// The detector's use: `[N, 3, H, W]` (H, W multiples of 32) -> the maps before each
    /// stride-2 block and the last one (strides 4, 8, 16, 32).
    pub fn forward(&self, x: Tensor<4>) -> [Tensor<4>; 4] {
        let mut x = self.stem.forward(x);
        let mut feats = Vec::with_capacity(4);
        for block in &self.blocks {
            if block.stride() != [1, 1] {
                feats.push(x.clone());
            }
            x = block.forward(x);
        }
        feats.push(x);
        let skip = feats.len().saturating_sub(4);
        let mut it = feats.into_iter().skip(skip);
        std::array::from_fn(|_| it.next().expect("four stages"))
    }

    /// The recognizer's use: `[N, 3, 48, W]` -> the last map.
    pub fn forward_last(&self, x: Tensor<4>) -> Tensor<4> {
        let mut x = self.stem.forward(x);
        for block in &self.blocks {
            x = block.forward(x);
        }
        x
    }

    /// Reads the stem and the blocks (every depthwise conv that follows).
    pub(crate) fn read(g: &mut Cursor<'_>) -> Result<Self> {
        let stem = HgStem::read(g)?;
        let mut blocks = Vec::new();
        while g.next_is_depthwise() {
            blocks.push(RepVitBlock::read(g)?);
        }
        Ok(RepVitNet { stem, blocks })
    }

    /// The number of stride-2 blocks plus one: how many maps [`RepVitNet::forward`] can
    /// give.
    pub fn stages(&self) -> usize {
        1 + self.blocks.iter().filter(|b| b.stride() != [1, 1]).count()
    }
}
