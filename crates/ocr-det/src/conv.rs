//! Convolutions as the networks call them: burn's `Conv2d`, except that a depthwise one
//! runs as [`whet_core::ops::depthwise_conv2d`] (on the CPU a direct forward kernel, 1.5x
//! burn's on a 5 x 5 layer, and gradients that are direct kernels instead of one
//! convolution per channel and a grouped transposed convolution) and, training, a
//! pointwise (`1 x 1`) one as a batched matrix product.
//!
//! Why: burn computes a convolution's weight gradient as another convolution whose kernel
//! is the whole output map (`conv2d_weight_backward`). For a `1 x 1` convolution that is
//! one matrix-vector product per input channel (gemm's one-column micro-kernel, 17% of a
//! recognizer training step in `docs/benchmarks.md`), and its input gradient a transposed
//! convolution. As `W [C_out, C_in] x X [N, C_in, H*W]` the backward is two matrix
//! products: `dX = W^T dY` and `dW = sum_n dY X^T`. Inference (nothing requires a
//! gradient) keeps burn's own `1 x 1` path.

use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::Tensor;
use burn::tensor::ops::ConvOptions;

/// `conv.forward(x)`: `x` `[N, C_in, H, W]` -> `[N, C_out, H', W']`.
pub(crate) fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    if is_depthwise(conv) {
        return depthwise(conv, x);
    }
    if !trains(conv, &x) || !is_pointwise(conv) {
        return conv.forward(x);
    }
    let weight = conv.weight.val();
    let [n, c_in, h, w] = x.dims();
    let [c_out, ..] = weight.dims();
    let y = weight
        .reshape([1, c_out, c_in])
        .matmul(x.reshape([n, c_in, h * w]));
    let y = match &conv.bias {
        Some(b) => y.add(b.val().reshape([1, c_out, 1])),
        None => y,
    };
    y.reshape([n, c_out, h, w])
}

/// Whether a gradient flows through `conv` on `x` (its weight or `x` tracked).
pub(crate) fn trains(conv: &Conv2d, x: &Tensor<4>) -> bool {
    conv.weight.val().is_require_grad() || x.is_require_grad()
}

/// One filter per channel (`groups` = channels in = channels out).
fn is_depthwise(conv: &Conv2d) -> bool {
    let [c_out, per_group, _, _] = conv.weight.dims();
    conv.groups > 1 && conv.groups == c_out && per_group == 1
}

/// `conv.forward(x)` for a depthwise `conv` (explicit or no padding; `Same` padding, which
/// the ONNX networks never use, stays burn's path).
fn depthwise(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    let Some(options) = options(conv) else {
        return conv.forward(x);
    };
    whet_core::ops::depthwise_conv2d(
        x,
        conv.weight.val(),
        conv.bias.as_ref().map(|b| b.val()),
        options,
    )
}

/// `conv`'s options as burn's functional convolution takes them; `None` for `Same`
/// padding.
pub(crate) fn options(conv: &Conv2d) -> Option<ConvOptions<2>> {
    let (rows, cols) = match conv.padding {
        PaddingConfig2d::Valid => ((0, 0), (0, 0)),
        PaddingConfig2d::Explicit(top, left, bottom, right) => ((top, bottom), (left, right)),
        PaddingConfig2d::Same => return None,
    };
    Some(ConvOptions::new_with_padding(
        conv.stride,
        [rows, cols],
        conv.dilation,
        conv.groups,
    ))
}

/// `conv` on `x` without its bias, with `options` from [`options`]: for inference paths
/// that add the bias in a fused pass of their own.
pub(crate) fn conv2d_unbiased(conv: &Conv2d, x: Tensor<4>, options: ConvOptions<2>) -> Tensor<4> {
    if is_depthwise(conv) {
        whet_core::ops::depthwise_conv2d(x, conv.weight.val(), None, options)
    } else {
        burn::tensor::module::conv2d(x, conv.weight.val(), None, options)
    }
}

/// A `1 x 1` convolution with stride 1, no padding and one group: a matrix product over
/// channels.
fn is_pointwise(conv: &Conv2d) -> bool {
    conv.kernel_size == [1, 1]
        && conv.stride == [1, 1]
        && conv.groups == 1
        && matches!(
            conv.padding,
            PaddingConfig2d::Valid | PaddingConfig2d::Explicit(0, 0, 0, 0)
        )
}

#[cfg(test)]
mod tests {
    use burn::nn::conv::Conv2dConfig;
    use burn::tensor::{Device, Distribution, Tensor, Tolerance};

    use super::*;

    /// The pointwise and depthwise paths give burn's convolution, its input gradient and
    /// its weight and bias gradients.
    #[test]
    fn the_training_paths_are_burns_convolution_forward_and_backward() {
        let device = Device::flex().autodiff();
        let pointwise = Conv2dConfig::new([6, 5], [1, 1])
            .with_bias(true)
            .init(&device);
        let depthwise = Conv2dConfig::new([6, 6], [3, 3])
            .with_groups(6)
            .with_stride([2, 2])
            .with_padding(burn::nn::PaddingConfig2d::Explicit(1, 1, 1, 1))
            .with_bias(true)
            .init(&device);
        assert!(is_pointwise(&pointwise) && !is_depthwise(&pointwise));
        assert!(is_depthwise(&depthwise) && !is_pointwise(&depthwise));
        let x = Tensor::<4>::random([3, 6, 4, 7], Distribution::Normal(0.0, 1.0), &device);
        for conv in [pointwise, depthwise] {
            let run = |ours: bool| {
                let x = x.clone().detach().require_grad();
                let y = if ours {
                    conv2d(&conv, x.clone())
                } else {
                    conv.forward(x.clone())
                };
                let target = Tensor::<4>::ones(y.dims(), &device).mul_scalar(0.5);
                let grads = (y.clone() * y.clone() * target).sum().backward();
                let gx = x.grad(&grads).expect("input gradient");
                let gw = conv.weight.val().grad(&grads).expect("weight gradient");
                let bias = conv.bias.as_ref().expect("bias").val();
                let gb = bias.grad(&grads).expect("bias gradient");
                [
                    y.into_data(),
                    gx.into_data(),
                    gw.into_data(),
                    gb.into_data(),
                ]
            };
            let (ours, theirs) = (run(true), run(false));
            for (a, b) in ours.iter().zip(&theirs) {
                a.assert_approx_eq::<f32>(b, Tolerance::relative(1e-4).set_absolute(1e-5));
            }
        }
    }
}
