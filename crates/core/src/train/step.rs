//! What the caller plugs into the Trainer: data, a training step, a validation step.

use std::collections::BTreeMap;

use burn::tensor::{Device, Tensor};

/// Named scalar metrics (`accuracy`, `cer`, ...).
pub type Metrics = BTreeMap<String, f64>;

/// A dataset the Trainer reads by index, in the order it shuffles.
pub trait Dataset<I>: Send + Sync {
    /// Number of samples.
    fn len(&self) -> usize;
    /// The sample at `index` (`None` only when out of range).
    fn get(&self, index: usize) -> Option<I>;
    /// Whether there are no samples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<I: Clone + Send + Sync> Dataset<I> for Vec<I> {
    fn len(&self) -> usize {
        self.as_slice().len()
    }
    fn get(&self, index: usize) -> Option<I> {
        self.as_slice().get(index).cloned()
    }
}

impl<I: Clone + Send + Sync> Dataset<I> for [I] {
    fn len(&self) -> usize {
        <[I]>::len(self)
    }
    fn get(&self, index: usize) -> Option<I> {
        <[I]>::get(self, index).cloned()
    }
}

/// Turns samples into a batch on a device.
///
/// Implemented for every `Fn(Vec<I>, &Device) -> B`. (burn's own `Batcher` lives behind
/// its `dataset` feature, which pulls a dataset engine Whetstone does not need.)
pub trait Batcher<I, B> {
    /// Batches `items` on `device`.
    fn batch(&self, items: Vec<I>, device: &Device) -> B;
}

impl<I, B, F: Fn(Vec<I>, &Device) -> B> Batcher<I, B> for F {
    fn batch(&self, items: Vec<I>, device: &Device) -> B {
        self(items, device)
    }
}

/// What one training step returns.
#[derive(Debug, Clone)]
pub struct StepOutput {
    /// The scalar loss to minimise, `[1]`; the Trainer calls `backward` on it.
    pub loss: Tensor<1>,
    /// Extra metrics to log (already on the host).
    pub metrics: Metrics,
}

impl StepOutput {
    /// A loss and no extra metrics.
    pub fn new(loss: Tensor<1>) -> Self {
        StepOutput {
            loss,
            metrics: Metrics::new(),
        }
    }

    /// Adds a metric.
    #[must_use]
    pub fn with_metric(mut self, name: impl Into<String>, value: f64) -> Self {
        self.metrics.insert(name.into(), value);
        self
    }
}

/// Forward pass and loss of one batch.
///
/// Implemented for every `Fn(&M, B) -> StepOutput`.
pub trait TrainStep<M, B> {
    /// Computes the loss of `batch` under `model` (on the autodiff device).
    fn step(&self, model: &M, batch: B) -> StepOutput;
}

impl<M, B, F: Fn(&M, B) -> StepOutput> TrainStep<M, B> for F {
    fn step(&self, model: &M, batch: B) -> StepOutput {
        self(model, batch)
    }
}

/// Evaluation on held-out data.
///
/// Implemented for every `Fn(&M) -> Metrics`. It receives the inference copy of the
/// model (`model.valid()`), so nothing it does is tracked for gradients.
pub trait ValidStep<M> {
    /// Metrics of `model` on the validation data.
    fn validate(&self, model: &M) -> Metrics;
}

impl<M, F: Fn(&M) -> Metrics> ValidStep<M> for F {
    fn validate(&self, model: &M) -> Metrics {
        self(model)
    }
}
