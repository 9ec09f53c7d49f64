//! Whetstone-owned kernels for hot operations that burn's CPU backend runs poorly, as
//! burn custom operations (a backend extension with its own backward pass).
//!
//! - [`depthwise_conv2d`]: a depthwise convolution whose two gradients are direct
//!   kernels. burn computes a grouped convolution's weight gradient with one convolution
//!   per group (`conv2d_weight_grad_groups`: slices, an im2col of the whole input per
//!   channel, a slice-assign), which made the backward of PP-LCNetV3's depthwise layers 7x
//!   their forward (`docs/benchmarks.md`, "CPU speed"), and its input gradient is a grouped
//!   transposed convolution. Here each is one pass over the tensors, channels in
//!   parallel. Its forward pass (training and inference) keeps each output tile in
//!   registers across all the taps (`ops/depthwise_forward.rs`): 1.5x burn-flex's on
//!   PP-LCNetV3's 5 x 5 layer (`scripts/bench-kernels.sh`).
//!
//! - [`bias_hard_swish`]: bias, hard-swish and a scalar affine in one pass (inference on
//!   the CPU), where burn makes up to five.
//!
//! The kernels run on burn-flex (the CPU backend); on any other device the functions are
//! burn's own operations, so results and gradients are the same everywhere up to float
//! rounding.

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::ConvOptions;
use burn::backend::tensor::FloatTensor;
use burn::backend::{
    Autodiff, AutodiffBackend, Backend, Dispatch, Flex, TensorMetadata, backend_extension,
};
use burn::tensor::{DType, Tensor, TensorData};
use rayon::prelude::*;

mod depthwise_forward;

/// The depthwise convolution as a backend operation.
#[backend_extension(Flex, Autodiff)]
pub trait DepthwiseOps: Backend {
    /// `x` `[N, C, H, W]`, `weight` `[C, 1, kh, kw]`, `options.groups == C` ->
    /// `[N, C, H', W']`, no bias.
    fn depthwise_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self>;

    /// The gradient of [`DepthwiseOps::depthwise_conv2d`] with respect to its weight:
    /// `x` `[N, C, H, W]`, `grad` `[N, C, H', W']` -> `[C, 1, kernel[0], kernel[1]]`.
    fn depthwise_conv2d_weight_grad(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        kernel: [usize; 2],
        options: ConvOptions<2>,
    ) -> FloatTensor<Self>;

    /// The gradient of [`DepthwiseOps::depthwise_conv2d`] with respect to its input:
    /// `weight` `[C, 1, kh, kw]`, `grad` `[N, C, H', W']` -> `[N, C, input[0], input[1]]`.
    fn depthwise_conv2d_x_grad(
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        input: [usize; 2],
        options: ConvOptions<2>,
    ) -> FloatTensor<Self>;
}

impl DepthwiseOps for Flex {
    fn depthwise_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        let [n, c, h, w] = x.shape().dims();
        let [_, _, kh, kw] = weight.shape().dims();
        if x.dtype() == DType::F32 && weight.dtype() == DType::F32 {
            let [ho, wo] = [0, 1].map(|d| {
                burn::backend::ops::conv::calculate_conv_output_size_asymmetric(
                    [kh, kw][d],
                    options.stride[d],
                    (options.padding_begin()[d], options.padding_end()[d]),
                    options.dilation[d],
                    [h, w][d],
                )
            });
            let geometry = Geometry::new([n, c], [h, w], [ho, wo], [kh, kw], &options);
            let (xs, ws) = (x.to_contiguous(), weight.to_contiguous());
            if let Some(out) = depthwise_forward::forward(
                xs.as_slice::<f32>().expect("a contiguous f32 input"),
                ws.as_slice::<f32>().expect("a contiguous f32 weight"),
                &geometry,
            ) {
                return FlexTensor::from_data(TensorData::new(out, [n, c, ho, wo]));
            }
            return <Flex as burn::backend::ops::ModuleOps<Flex>>::conv2d(xs, ws, None, options);
        }
        <Flex as burn::backend::ops::ModuleOps<Flex>>::conv2d(x, weight, None, options)
    }

    fn depthwise_conv2d_weight_grad(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        kernel: [usize; 2],
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        let [n, c, h, w] = x.shape().dims();
        let [_, _, ho, wo] = grad.shape().dims();
        if x.dtype() != DType::F32 || grad.dtype() != DType::F32 {
            // Other float types: burn's own (grouped) weight gradient.
            let zeros = FlexTensor::zeros([c, 1, kernel[0], kernel[1]].into(), x.dtype());
            return <Flex as burn::backend::ops::ModuleOps<Flex>>::conv2d_weight_backward(
                x, zeros, grad, options,
            );
        }
        let (x, grad) = (x.to_contiguous(), grad.to_contiguous());
        let geometry = Geometry::new([n, c], [h, w], [ho, wo], kernel, &options);
        let out = weight_grad(
            x.as_slice::<f32>().expect("a contiguous f32 input"),
            grad.as_slice::<f32>().expect("a contiguous f32 gradient"),
            &geometry,
        );
        FlexTensor::from_data(TensorData::new(out, [c, 1, kernel[0], kernel[1]]))
    }

    fn depthwise_conv2d_x_grad(
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        input: [usize; 2],
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        let [c, _, kh, kw] = weight.shape().dims();
        let [n, _, ho, wo] = grad.shape().dims();
        if weight.dtype() != DType::F32 || grad.dtype() != DType::F32 {
            let x = FlexTensor::zeros([n, c, input[0], input[1]].into(), grad.dtype());
            return <Flex as burn::backend::ops::ModuleOps<Flex>>::conv2d_x_backward(
                x, weight, grad, options,
            );
        }
        let (weight, grad) = (weight.to_contiguous(), grad.to_contiguous());
        let geometry = Geometry::new([n, c], input, [ho, wo], [kh, kw], &options);
        let out = x_grad(
            weight.as_slice::<f32>().expect("a contiguous f32 weight"),
            grad.as_slice::<f32>().expect("a contiguous f32 gradient"),
            &geometry,
        );
        FlexTensor::from_data(TensorData::new(out, [n, c, input[0], input[1]]))
    }
}

impl<B: Backend + DepthwiseOps, C: CheckpointStrategy> DepthwiseOps for Autodiff<B, C> {
    fn depthwise_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct Depthwise;

        impl<B: Backend + DepthwiseOps> Backward<B, 2> for Depthwise {
            type State = (NodeId, NodeId, ConvOptions<2>);

            fn backward(
                self,
                ops: Ops<Self::State, 2>,
                grads: &mut Gradients,
                checkpointer: &mut Checkpointer,
            ) {
                let [node_x, node_weight] = ops.parents;
                let grad = grads.consume::<B>(&ops.node);
                let (x_state, weight_state, options) = ops.state;
                let x = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(x_state);
                let weight =
                    checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(weight_state);
                let [_, _, kh, kw] = weight.shape().dims();
                let [_, _, h, w] = x.shape().dims();
                if let Some(node) = node_x {
                    let g =
                        B::depthwise_conv2d_x_grad(weight, grad.clone(), [h, w], options.clone());
                    grads.register::<B>(node.id, g);
                }
                if let Some(node) = node_weight {
                    let g = B::depthwise_conv2d_weight_grad(x, grad, [kh, kw], options);
                    grads.register::<B>(node.id, g);
                }
            }
        }

        match Depthwise
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let weight_state = prep.checkpoint(&weight);
                let y = B::depthwise_conv2d(
                    x.into_primitive(),
                    weight.into_primitive(),
                    options.clone(),
                );
                prep.finish((x_state, weight_state, options), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::depthwise_conv2d(
                x.into_primitive(),
                weight.into_primitive(),
                options,
            )),
        }
    }

    fn depthwise_conv2d_weight_grad(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        kernel: [usize; 2],
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        Self::from_inner(B::depthwise_conv2d_weight_grad(
            x.into_primitive(),
            grad.into_primitive(),
            kernel,
            options,
        ))
    }

    fn depthwise_conv2d_x_grad(
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        input: [usize; 2],
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        Self::from_inner(B::depthwise_conv2d_x_grad(
            weight.into_primitive(),
            grad.into_primitive(),
            input,
            options,
        ))
    }
}

/// A depthwise convolution (`groups` equal to the channels, one filter each): `x`
/// `[N, C, H, W]`, `weight` `[C, 1, kh, kw]`, `bias` `[C]` -> `[N, C, H', W']`, as
/// `burn::tensor::module::conv2d` computes it. On the CPU (a flex device) the forward pass
/// is a direct kernel and, training, the weight and input gradients are too (instead of
/// one convolution per channel and a grouped transposed convolution); elsewhere this is
/// burn's `conv2d`.
///
/// ```
/// use burn::tensor::{Device, Tensor, module::conv2d, ops::ConvOptions};
/// let device = Device::flex().autodiff();
/// let x = Tensor::<4>::ones([1, 2, 4, 4], &device);
/// let w = Tensor::<4>::ones([2, 1, 3, 3], &device).require_grad();
/// let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 2);
/// let y = whet_core::ops::depthwise_conv2d(x.clone(), w.clone(), None, options.clone());
/// let reference = conv2d(x, w.clone(), None, options);
/// y.clone().into_data().assert_eq(&reference.into_data(), true);
/// let grad = w.grad(&y.sum().backward()).unwrap();
/// assert_eq!(grad.to_data().to_vec::<f32>().unwrap()[4], 16.0); // the centre sees every pixel
/// ```
pub fn depthwise_conv2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    options: ConvOptions<2>,
) -> Tensor<4> {
    let [_, c, _, _] = x.dims();
    let [c_out, per_group, _, _] = weight.dims();
    let device = x.device();
    let flex = matches!(
        device.inner().as_dispatch(),
        burn::backend::DispatchDevice::Flex(_)
    );
    if !(flex && options.groups == c && c_out == c && per_group == 1) {
        return burn::tensor::module::conv2d(x, weight, bias, options);
    }
    let y = Tensor::<4>::from_dispatch(<Dispatch as DepthwiseOps>::depthwise_conv2d(
        x.into_dispatch(),
        weight.into_dispatch(),
        options,
    ));
    match bias {
        Some(b) => y.add(b.reshape([1, c, 1, 1])),
        None => y,
    }
}

/// `hard_swish(x + bias[c]) * scale + shift` over `x` `[N, C, H, W]` (`bias` `[C]`,
/// `affine` the scalar `(scale, shift)` as `[1]` tensors; each optional), with
/// `hard_swish(v) = v * clamp(v / 6 + 1 / 2, 0, 1)` as burn computes it.
///
/// The activation that follows most convolutions of PP-LCNetV3 (PP-OCR's backbones). On a
/// CPU device without autodiff it is one pass over `x`, in place when `x` is not shared;
/// elsewhere (training, GPUs) burn's operations (up to five passes), with their gradients.
///
/// ```
/// use burn::tensor::{Device, Tensor};
/// let device = Device::flex();
/// let x = Tensor::<4>::from_floats([[[[-4.0, -1.0, 0.0, 2.0]]]], &device);
/// let bias = Tensor::<1>::from_floats([1.0], &device);
/// let y = whet_core::ops::bias_hard_swish(x, Some(bias), None);
/// let v = y.into_data().to_vec::<f32>().unwrap();
/// assert_eq!(v, [-0.0, 0.0, 1.0 * (1.0 / 6.0 + 0.5), 3.0]);
/// ```
pub fn bias_hard_swish(
    x: Tensor<4>,
    bias: Option<Tensor<1>>,
    affine: Option<(Tensor<1>, Tensor<1>)>,
) -> Tensor<4> {
    let [_, c, h, w] = x.dims();
    let device = x.device();
    let flex = !device.is_autodiff()
        && matches!(
            device.clone().inner().as_dispatch(),
            burn::backend::DispatchDevice::Flex(_)
        );
    if !flex || x.dtype() != DType::F32 {
        let x = match bias {
            Some(b) => x.add(b.reshape([1, c, 1, 1])),
            None => x,
        };
        let y = burn::tensor::activation::hard_swish(x);
        return match affine {
            Some((s, t)) => y.mul(s.reshape([1, 1, 1, 1])).add(t.reshape([1, 1, 1, 1])),
            None => y,
        };
    }
    let values = |t: Tensor<1>| {
        t.into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32 values")
    };
    let bias = bias.map_or_else(|| vec![0.0; c], values);
    let (scale, shift) = affine.map_or((1.0, 0.0), |(s, t)| (values(s)[0], values(t)[0]));
    let mut data = x.into_data();
    let plane = h * w;
    if plane > 0 {
        data.as_mut_slice::<f32>()
            .expect("a CPU f32 tensor")
            .par_chunks_mut(plane)
            .enumerate()
            .for_each(|(i, p)| {
                let b = bias[i % c];
                for v in p {
                    let u = *v + b;
                    *v = u * (u * (1.0 / 6.0) + 0.5).clamp(0.0, 1.0) * scale + shift;
                }
            });
    }
    Tensor::from_data(data, &device)
}

/// Sizes of a depthwise convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Geometry {
    n: usize,
    c: usize,
    input: [usize; 2],
    output: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
}

impl Geometry {
    /// Batch and channels `[n, c]`, the input's, output's and kernel's sizes, and
    /// `options`' stride, leading padding and dilation.
    fn new(
        [n, c]: [usize; 2],
        input: [usize; 2],
        output: [usize; 2],
        kernel: [usize; 2],
        options: &ConvOptions<2>,
    ) -> Self {
        Geometry {
            n,
            c,
            input,
            output,
            kernel,
            stride: options.stride,
            padding: options.padding_begin(),
            dilation: options.dilation,
        }
    }
}

/// `dW[c, i, j] = sum over n, y, x of g[n, c, y, x] * x[n, c, y s + i d - p, x s + j d - p]`
/// (zero outside the input), channels in parallel; each row's products summed in eight
/// lanes, rows summed in `f64`.
fn weight_grad(x: &[f32], g: &[f32], geo: &Geometry) -> Vec<f32> {
    let Geometry {
        n,
        c,
        input: [h, w],
        output: [ho, wo],
        kernel: [kh, kw],
        stride: [sy, sx],
        padding: [py, px],
        dilation: [dy, dx],
    } = *geo;
    let mut out = vec![0f32; c * kh * kw];
    out.par_chunks_mut(kh * kw)
        .enumerate()
        .for_each(|(ch, taps)| {
            for i in 0..kh {
                for j in 0..kw {
                    let shift = (j * dx) as isize - px as isize;
                    let (lo, hi) = columns(shift, sx, w, wo);
                    if lo >= hi {
                        continue;
                    }
                    let mut total = 0f64;
                    for b in 0..n {
                        let plane = (b * c + ch) * h * w;
                        let gplane = (b * c + ch) * ho * wo;
                        for oy in 0..ho {
                            let iy = (oy * sy + i * dy) as isize - py as isize;
                            if iy < 0 || iy >= h as isize {
                                continue;
                            }
                            let grow = &g[gplane + oy * wo + lo..gplane + oy * wo + hi];
                            let start =
                                plane as isize + iy * w as isize + (lo * sx) as isize + shift;
                            let xrow = &x[start as usize..];
                            total += f64::from(if sx == 1 {
                                dot(grow, &xrow[..grow.len()])
                            } else {
                                grow.iter()
                                    .enumerate()
                                    .map(|(k, &gv)| gv * xrow[k * sx])
                                    .sum::<f32>()
                            });
                        }
                    }
                    taps[i * kw + j] = total as f32;
                }
            }
        });
    out
}

/// The output columns `[lo, hi)` whose input column `ox stride + shift` lies in `[0, width)`.
fn columns(shift: isize, stride: usize, width: usize, out: usize) -> (usize, usize) {
    let lo = if shift >= 0 {
        0
    } else {
        (-shift as usize).div_ceil(stride)
    };
    let hi = if (width as isize - shift) <= 0 {
        0
    } else {
        ((width as isize - shift - 1) as usize / stride + 1).min(out)
    };
    (lo, hi)
}

/// `dx[n, c, y s + i d - p, x s + j d - p] += g[n, c, y, x] * w[c, i, j]` over every output
/// position and tap inside the input, planes in parallel.
fn x_grad(weight: &[f32], g: &[f32], geo: &Geometry) -> Vec<f32> {
    let Geometry {
        c,
        input: [h, w],
        output: [ho, wo],
        kernel: [kh, kw],
        stride: [sy, sx],
        padding: [py, px],
        dilation: [dy, dx],
        ..
    } = *geo;
    let mut out = vec![0f32; geo.n * c * h * w];
    out.par_chunks_mut(h * w)
        .enumerate()
        .for_each(|(plane, dst)| {
            let ch = plane % c;
            let gplane = &g[plane * ho * wo..(plane + 1) * ho * wo];
            for i in 0..kh {
                for j in 0..kw {
                    let tap = weight[(ch * kh + i) * kw + j];
                    let shift = (j * dx) as isize - px as isize;
                    let (lo, hi) = columns(shift, sx, w, wo);
                    if lo >= hi {
                        continue;
                    }
                    for oy in 0..ho {
                        let iy = (oy * sy + i * dy) as isize - py as isize;
                        if iy < 0 || iy >= h as isize {
                            continue;
                        }
                        let grow = &gplane[oy * wo + lo..oy * wo + hi];
                        let start = (iy * w as isize + (lo * sx) as isize + shift) as usize;
                        if sx == 1 {
                            for (d, &gv) in dst[start..start + grow.len()].iter_mut().zip(grow) {
                                *d += gv * tap;
                            }
                        } else {
                            for (k, &gv) in grow.iter().enumerate() {
                                dst[start + k * sx] += gv * tap;
                            }
                        }
                    }
                }
            }
        });
    out
}

/// `sum a[k] b[k]` in eight independent lanes (which the compiler vectorises).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ac
        .remainder()
        .iter()
        .zip(bc.remainder())
        .map(|(p, q)| p * q)
        .sum();
    for (p, q) in ac.zip(bc) {
        for k in 0..8 {
            lanes[k] += p[k] * q[k];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use burn::tensor::module::conv2d;
    use burn::tensor::{Device, Distribution, Tolerance};

    use super::*;

    /// The one-pass epilogue (a CPU device) against burn's operations (an autodiff one),
    /// with and without bias and affine.
    #[test]
    fn bias_hard_swish_is_burns_operations() {
        let data = Tensor::<4>::random(
            [2, 3, 5, 7],
            Distribution::Normal(0.0, 4.0),
            &Device::flex(),
        )
        .into_data();
        let run = |device: &Device, bias: bool, affine: bool| {
            let x = Tensor::<4>::from_data(data.clone(), device);
            let b = bias.then(|| Tensor::<1>::from_floats([0.5, -1.0, 2.0], device));
            let a = affine.then(|| {
                (
                    Tensor::<1>::from_floats([1.5], device),
                    Tensor::<1>::from_floats([-0.25], device),
                )
            });
            bias_hard_swish(x, b, a).into_data()
        };
        for (bias, affine) in [(false, false), (true, false), (true, true), (false, true)] {
            let ours = run(&Device::flex(), bias, affine);
            let theirs = run(&Device::flex().autodiff(), bias, affine);
            ours.assert_approx_eq::<f32>(&theirs, Tolerance::relative(1e-6).set_absolute(1e-6));
        }
    }

    /// Inference (no autodiff): the direct forward kernel against burn's grouped
    /// convolution, over tiles that end inside and past the output rows.
    #[test]
    fn the_depthwise_forward_is_burns() {
        let device = Device::flex();
        for (stride, padding, dilation, kernel, size) in [
            ([1, 1], [1, 1], [1, 1], [3, 3], [40, 96]),
            ([2, 2], [1, 1], [1, 1], [3, 3], [33, 161]),
            ([2, 1], [2, 2], [1, 1], [5, 5], [16, 31]),
            ([1, 2], [0, 3], [2, 2], [3, 5], [12, 40]),
            ([3, 3], [0, 0], [1, 1], [1, 1], [9, 9]),
        ] {
            let c = 6;
            let x = Tensor::<4>::random(
                [2, c, size[0], size[1]],
                Distribution::Normal(0.0, 1.0),
                &device,
            );
            let w = Tensor::<4>::random(
                [c, 1, kernel[0], kernel[1]],
                Distribution::Normal(0.0, 1.0),
                &device,
            );
            let b = Tensor::<1>::random([c], Distribution::Normal(0.0, 1.0), &device);
            let options = ConvOptions::new(stride, padding, dilation, c);
            let ours = depthwise_conv2d(x.clone(), w.clone(), Some(b.clone()), options.clone());
            let theirs = conv2d(x, w, Some(b), options);
            assert_eq!(ours.dims(), theirs.dims());
            ours.into_data().assert_approx_eq::<f32>(
                &theirs.into_data(),
                Tolerance::relative(1e-5).set_absolute(1e-5),
            );
        }
    }

    /// The direct kernel against burn's grouped convolution, forward and both gradients,
    /// over strides, paddings, dilations and kernels that reach past the input.
    #[test]
    fn the_depthwise_gradients_are_burns() {
        let device = Device::flex().autodiff();
        for (stride, padding, dilation, kernel, size) in [
            ([1, 1], [1, 1], [1, 1], [3, 3], [9, 11]),
            ([2, 2], [2, 2], [1, 1], [5, 5], [10, 9]),
            ([1, 2], [0, 3], [2, 1], [3, 5], [8, 12]),
            ([1, 1], [4, 4], [1, 1], [5, 5], [2, 3]),
            ([2, 2], [1, 1], [1, 1], [3, 3], [20, 70]),
            ([1, 1], [2, 2], [1, 1], [5, 5], [7, 65]),
            // PP-OCRv6's detector neck (7 x 7) and recognizer neck (1 x 7).
            ([1, 1], [3, 3], [1, 1], [7, 7], [20, 24]),
            ([1, 1], [3, 3], [1, 1], [7, 7], [40, 96]),
            ([1, 1], [0, 3], [1, 1], [1, 7], [1, 40]),
        ] {
            let (n, c) = (3, 5);
            let x = Tensor::<4>::random(
                [n, c, size[0], size[1]],
                Distribution::Normal(0.0, 1.0),
                &device,
            );
            let weight = Tensor::<4>::random(
                [c, 1, kernel[0], kernel[1]],
                Distribution::Normal(0.0, 1.0),
                &device,
            );
            let bias = Tensor::<1>::random([c], Distribution::Normal(0.0, 1.0), &device);
            let options = ConvOptions::new(stride, padding, dilation, c);
            let run = |ours: bool| {
                let (x, w, b) = (
                    x.clone().require_grad(),
                    weight.clone().require_grad(),
                    bias.clone().require_grad(),
                );
                let y = if ours {
                    depthwise_conv2d(x.clone(), w.clone(), Some(b.clone()), options.clone())
                } else {
                    conv2d(x.clone(), w.clone(), Some(b.clone()), options.clone())
                };
                let target = Tensor::<4>::ones(y.dims(), &device).mul_scalar(0.5);
                let grads = (y.clone() * y.clone() * target).sum().backward();
                [
                    y.into_data(),
                    x.grad(&grads).expect("input gradient").into_data(),
                    w.grad(&grads).expect("weight gradient").into_data(),
                    b.grad(&grads).expect("bias gradient").into_data(),
                ]
            };
            let (ours, theirs) = (run(true), run(false));
            for (a, b) in ours.iter().zip(&theirs) {
                assert_eq!(a.shape(), b.shape());
                // The weight and bias gradients sum N x H x W products (11,520 for the
                // 40 x 96 map) in another order than burn's: an element that cancels to
                // near zero differs by the f32 rounding of partial sums as large as the
                // tensor's largest values, so the absolute bound scales with those
                // (1e-5 of the largest; an indexing error is off by its whole size).
                let scale = b.iter::<f32>().fold(0.0f32, |m, v| m.max(v.abs()));
                let absolute = (1e-5 * scale).max(1e-4);
                a.assert_approx_eq::<f32>(b, Tolerance::relative(1e-4).set_absolute(absolute));
            }
        }
    }
}
