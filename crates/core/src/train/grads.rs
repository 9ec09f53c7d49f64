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

/// The L2 norm of all gradients of `module`'s parameters taken together (0 when there
/// are none). Non-finite when any gradient element is NaN or infinite.
pub fn global_grad_norm<M: Module>(module: &M, grads: &GradientsParams) -> f64 {
    let mut visitor = SquaredNorm { grads, sum: None };
    module.visit(&mut visitor);
    match visitor.sum {
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
