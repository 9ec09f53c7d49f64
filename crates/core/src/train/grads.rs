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
            let s = (g.clone() * g).sum();
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
