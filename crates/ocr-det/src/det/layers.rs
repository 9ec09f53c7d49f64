//! The building blocks PP-OCRv4's detector is made of, in their inference (re-parameterised)
//! form: a convolution with a learnable scalar scale and bias, hard-swish with another,
//! squeeze-excitation, and nearest upsampling.

use burn::module::{Module, Param};
use burn::nn::conv::Conv2d;
use burn::tensor::Tensor;
use burn::tensor::activation::{hard_sigmoid, relu};

use crate::conv::{conv2d, conv2d_unbiased, options, trains};
use crate::error::Result;
use crate::graph::Cursor;

/// `y = scale * x + bias` with scalar `scale` and `bias` (PaddleOCR's
/// `LearnableAffineBlock`).
#[derive(Module, Debug)]
pub struct Affine {
    /// The scale, shape `[1]`.
    pub scale: Param<Tensor<1>>,
    /// The bias, shape `[1]`.
    pub bias: Param<Tensor<1>>,
}

impl Affine {
    /// `x`: `[N, C, H, W]` -> same shape.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let s = self.scale.val().reshape([1, 1, 1, 1]);
        let b = self.bias.val().reshape([1, 1, 1, 1]);
        x.mul(s).add(b)
    }

    pub(crate) fn read(g: &mut Cursor<'_>) -> Result<Self> {
        let (scale, bias) = g.affine()?;
        Ok(Affine { scale, bias })
    }
}

/// `hardswish(x) = x * clip(x + 3, 0, 6) / 6`, computed as `x * hard_sigmoid(x)` (two
/// passes over the tensor instead of four; equal up to float rounding).
pub fn hard_swish(x: Tensor<4>) -> Tensor<4> {
    burn::tensor::activation::hard_swish(x)
}

/// A re-parameterised `LearnableRepLayer` of PPLCNetV3: convolution, learnable affine,
/// then (except at stride 2) hard-swish and another learnable affine.
///
/// The affine right after the convolution is folded into it when the weights are read
/// (`s (W x + b) + c = (s W) x + (s b + c)`): the same function, two passes over the
/// activations fewer, and the convolution's weights stay trainable. The affine after
/// hard-swish is folded the same way into a following `1 x 1` convolution where one
/// follows directly ([`RepConv::fold_affine_into`]).
#[derive(Module, Debug)]
pub struct RepConv {
    /// The fused convolution (with bias), the first affine folded in.
    pub conv: Conv2d,
    /// Hard-swish after the convolution (every layer but the stride-2 ones).
    #[module(skip)]
    pub activation: bool,
    /// The affine after hard-swish; `None` without activation, or where it was folded
    /// into the next convolution.
    pub act: Option<Affine>,
}

impl RepConv {
    /// `x`: `[N, C_in, H, W]` -> `[N, C_out, H / stride, W / stride]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        if !self.activation {
            return conv2d(&self.conv, x);
        }
        if let (false, Some(options)) = (trains(&self.conv, &x), options(&self.conv)) {
            // Reading: the convolution without its bias, then bias, hard-swish and affine
            // in one pass (burn makes five: the bias, two for hard-swish, two for the affine).
            let y = conv2d_unbiased(&self.conv, x, options);
            return whet_core::ops::bias_hard_swish(
                y,
                self.conv.bias.as_ref().map(|b| b.val()),
                self.act.as_ref().map(|a| (a.scale.val(), a.bias.val())),
            );
        }
        let y = hard_swish(conv2d(&self.conv, x));
        match &self.act {
            Some(a) => a.forward(y),
            None => y,
        }
    }

    /// Moves this layer's output affine `s h + c` into `next`, a `1 x 1` convolution
    /// without padding that reads this layer's output: `W (s h + c) + b =
    /// (s W) h + (b + c * sum_in W)`. Exact (no borders to pad); does nothing when
    /// there is no affine or `next` is not `1 x 1`.
    pub fn fold_affine_into(&mut self, next: &mut RepConv) {
        let [out, _, kh, kw] = next.conv.weight.dims();
        let Some(affine) = self.act.as_ref().filter(|_| (kh, kw) == (1, 1)) else {
            return;
        };
        let w = next.conv.weight.val();
        let device = w.device();
        let (s, c) = (affine.scale.val(), affine.bias.val());
        let shift = w.clone().sum_dim(1).reshape([out]).mul(c.expand([out]));
        let bias = match &next.conv.bias {
            Some(b) => b.val().add(shift),
            None => shift,
        };
        next.conv.weight = Param::from_tensor(w.mul(s.reshape([1, 1, 1, 1])).detach());
        next.conv.bias = Some(Param::from_tensor(bias.to_device(&device).detach()));
        self.act = None;
    }

    pub(crate) fn read(g: &mut Cursor<'_>) -> Result<Self> {
        let mut conv = g.conv()?;
        let (scale, shift) = g.affine_values()?;
        conv.weight = Param::from_tensor(conv.weight.val().mul_scalar(scale).detach());
        let [out, ..] = conv.weight.dims();
        let bias = match &conv.bias {
            Some(b) => b.val().mul_scalar(scale).add_scalar(shift),
            None => Tensor::<1>::full([out], shift, &conv.weight.device()),
        };
        conv.bias = Some(Param::from_tensor(bias.detach()));
        let activation = g.next_are(&["Add", "Clip"]);
        let act = if activation {
            g.hard_swish()?;
            Some(Affine::read(g)?)
        } else {
            None
        };
        Ok(RepConv {
            conv,
            activation,
            act,
        })
    }
}

/// Squeeze-excitation: global average, reduce (ReLU), expand, hard-sigmoid, rescale.
#[derive(Module, Debug)]
pub struct SqueezeExcite {
    /// `C -> C / r`.
    pub reduce: Conv2d,
    /// `C / r -> C`.
    pub expand: Conv2d,
    /// The hard-sigmoid's slope (1/6 in the backbone, 0.2 in the neck).
    #[module(skip)]
    pub slope: f64,
}

impl SqueezeExcite {
    /// `x`: `[N, C, H, W]` -> same shape.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [n, c, _, _] = x.dims();
        let pooled = x.clone().mean_dim(3).mean_dim(2).reshape([n, c, 1, 1]);
        let w = hard_sigmoid(
            conv2d(&self.expand, relu(conv2d(&self.reduce, pooled))),
            self.slope,
            0.5,
        );
        x.mul(w)
    }

    pub(crate) fn read(g: &mut Cursor<'_>) -> Result<Self> {
        let (reduce, expand, slope) = g.squeeze_excite()?;
        Ok(SqueezeExcite {
            reduce,
            expand,
            slope,
        })
    }
}

/// Nearest upsampling by an integer factor (ONNX `Resize`, nearest, asymmetric, floor):
/// `[N, C, H, W]` -> `[N, C, H * f, W * f]`.
pub fn upsample(x: Tensor<4>, f: usize) -> Tensor<4> {
    if f == 1 {
        return x;
    }
    let [n, c, h, w] = x.dims();
    x.reshape([n, c, h, 1, w, 1])
        .expand([n, c, h, f, w, f])
        .reshape([n, c, h * f, w * f])
}
