//! Whole-model gradient operations: global L2 norm, clipping by it, finiteness.
//!
//! burn's `GradientClipping::Norm` clips each parameter's gradient by its own norm;
//! fine-tuning recipes (PyTorch's `clip_grad_norm_`, Hugging Face's `max_grad_norm`) clip
//! by the norm of *all* gradients together, which is what these functions do.

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

struct SquaredNorm<'a> {
    grads: &'a GradientsParams,
    sum: Option<Tensor<1>>,
}

impl ModuleVisitor for SquaredNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.get::<D>(param.id) {
            // The dot product of the flattened gradient with itself: one pass, no
            // temporary the size of the gradient (as `(g * g).sum()` makes).
            let n = g.shape().num_elements();
            let row: Tensor<2> = g.reshape([1, n]);
            let s: Tensor<1> = row.clone().matmul(row.transpose()).reshape([1]);
            self.sum = Some(match self.sum.take() {
                Some(acc) => acc + s,
                None => s,
            });
        }
    }
}

/// The sum of squares of all gradients, `[1]`, left on the device (no synchronisation);
/// `None` when no parameter has a gradient.
pub(crate) fn grad_square_sum<M: Module>(module: &M, grads: &GradientsParams) -> Option<Tensor<1>> {
    let mut visitor = SquaredNorm { grads, sum: None };
    module.visit(&mut visitor);
    visitor.sum
}

/// The L2 norm of all gradients of `module`'s parameters taken together (0 when there
/// are none). Non-finite when any gradient element is NaN or infinite.
pub fn global_grad_norm<M: Module>(module: &M, grads: &GradientsParams) -> f64 {
    match grad_square_sum(module, grads) {
        Some(sum) => f64::from(sum.into_scalar::<f32>()).sqrt(),
        None => 0.0,
    }
}

struct Scale<'a> {
    grads: &'a mut GradientsParams,
    factor: f64,
}

impl ModuleVisitor for Scale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let id: ParamId = param.id;
        if let Some(g) = self.grads.remove::<D>(id) {
            self.grads.register::<D>(id, g.mul_scalar(self.factor));
        }
    }
}

struct ScaleBy<'a> {
    grads: &'a mut GradientsParams,
    factor: Tensor<1>,
}

impl ModuleVisitor for ScaleBy<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let id: ParamId = param.id;
        if let Some(g) = self.grads.remove::<D>(id) {
            let factor = self.factor.clone().reshape([1; D]);
            self.grads.register::<D>(id, g.mul(factor));
        }
    }
}

/// Clips to global norm `max_norm` without leaving the device, as PyTorch's
/// `clip_grad_norm_` does: every gradient is multiplied by
/// `min(1, max_norm / (norm + 1e-6))`, `square_sum` being the gradients' sum of squares.
pub(crate) fn clip_by_square_sum<M: Module>(
    module: &M,
    grads: &mut GradientsParams,
    square_sum: &Tensor<1>,
    max_norm: f64,
) {
    let factor = square_sum
        .clone()
        .sqrt()
        .add_scalar(1e-6)
        .recip()
        .mul_scalar(max_norm)
        .clamp_max(1.0);
    let mut visitor = ScaleBy { grads, factor };
    module.visit(&mut visitor);
}

/// Multiplies every gradient by `factor` (`[1]`, on the device: no synchronisation).
pub(crate) fn scale_grads_by<M: Module>(
    module: &M,
    grads: &mut GradientsParams,
    factor: Tensor<1>,
) {
    let mut visitor = ScaleBy { grads, factor };
    module.visit(&mut visitor);
}

/// Multiplies every gradient by `factor`.
pub fn scale_grads<M: Module>(module: &M, grads: &mut GradientsParams, factor: f64) {
    let mut visitor = Scale { grads, factor };
    module.visit(&mut visitor);
}

/// Scales gradients down so that their global norm is at most `max_norm`, as PyTorch's
/// `clip_grad_norm_` does (factor `max_norm / (norm + 1e-6)`, applied only when it is
/// below 1). Returns the norm before clipping.
pub fn clip_grad_norm<M: Module>(module: &M, grads: &mut GradientsParams, max_norm: f64) -> f64 {
    let norm = global_grad_norm(module, grads);
    let factor = max_norm / (norm + 1e-6);
    if norm.is_finite() && factor < 1.0 {
        scale_grads(module, grads, factor);
    }
    norm
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::{Linear, LinearConfig};
    use burn::tensor::{Device, TensorData};

    fn setup() -> (Linear, GradientsParams) {
        let device = Device::flex().autodiff();
        let model = LinearConfig::new(3, 2).init(&device);
        let grads = grads_of(&model);
        (model, grads)
    }

    fn grads_of(model: &Linear) -> GradientsParams {
        let device = model.weight.val().device();
        let x = Tensor::<2>::from_data(
            TensorData::new(vec![1.0f32, -2.0, 3.0, 0.5, 4.0, -1.0], [2, 3]),
            &device,
        );
        let loss = model.forward(x).powi_scalar(2).sum().mul_scalar(10.0);
        GradientsParams::from_grads(loss.backward(), model)
    }

    #[test]
    fn clipping_bounds_the_global_norm_and_keeps_directions() {
        let (model, mut grads) = setup();
        let before = global_grad_norm(&model, &grads);
        assert!(before > 1.0, "test needs a large gradient, got {before}");
        let w_before = grads
            .get::<2>(model.weight.id)
            .unwrap()
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let reported = clip_grad_norm(&model, &mut grads, 0.5);
        assert_eq!(reported, before);
        let after = global_grad_norm(&model, &grads);
        assert!((after - 0.5).abs() < 1e-4, "norm after clipping {after}");
        let w_after = grads
            .get::<2>(model.weight.id)
            .unwrap()
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let ratio = (0.5 / (before + 1e-6)) as f32;
        for (a, b) in w_after.iter().zip(&w_before) {
            assert!((a - b * ratio).abs() <= 1e-6 * b.abs().max(1.0));
        }
        // Below the limit nothing changes.
        let again = clip_grad_norm(&model, &mut grads, 10.0);
        assert!((again - after).abs() < 1e-9);
        assert!((global_grad_norm(&model, &grads) - after).abs() < 1e-9);
    }

    #[test]
    fn on_device_clipping_matches_host_clipping() {
        let (model, mut host) = setup();
        let mut device_side = grads_of(&model);
        let _ = clip_grad_norm(&model, &mut host, 0.5);
        let sq = grad_square_sum(&model, &device_side).unwrap();
        clip_by_square_sum(&model, &mut device_side, &sq, 0.5);
        let a = global_grad_norm(&model, &host);
        let b = global_grad_norm(&model, &device_side);
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
}
