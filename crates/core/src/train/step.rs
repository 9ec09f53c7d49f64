//! What the caller plugs into the Trainer: data, a training step, a validation step.

use std::collections::BTreeMap;

use burn::tensor::{Device, Tensor};
use rand_chacha::ChaCha8Rng;

/// The generator a [`Batcher`] draws augmentations from.
pub type BatchRng = ChaCha8Rng;

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
/// Implemented for every `Fn(Vec<I>, &Device) -> B`; wrap a closure that also takes a
/// random number generator in [`seeded`] (augmentation). The Trainer calls it on a
/// worker thread, ahead of the step (`TrainConfig::prefetch`), so it must be `Sync` and
/// draw its randomness from the generator it is given, never from burn's device RNG.
/// (burn's own `Batcher` lives behind its `dataset` feature, which pulls a dataset
/// engine Whetstone does not need.)
pub trait Batcher<I, B> {
    /// Batches `items` on `device`.
    fn batch(&self, items: Vec<I>, device: &Device) -> B;

    /// Batches `items` on `device`, drawing any random choice from `rng`.
    ///
    /// The Trainer seeds `rng` from the run's seed and the batch's position in the data
    /// order (epoch, batch), so augmentations are reproducible and a resumed run draws
    /// the same ones, with nothing to save. The default ignores `rng`.
    fn batch_with_rng(&self, items: Vec<I>, rng: &mut ChaCha8Rng, device: &Device) -> B {
        let _ = rng;
        self.batch(items, device)
    }
}

impl<I, B, F: Fn(Vec<I>, &Device) -> B> Batcher<I, B> for F {
    fn batch(&self, items: Vec<I>, device: &Device) -> B {
        self(items, device)
    }
}

/// A [`Batcher`] from a closure that takes the Trainer's seeded generator.
///
/// ```
/// use rand::Rng;
/// use whet_core::burn::tensor::{Device, Tensor, TensorData};
/// use whet_core::train::{Batcher, seeded};
///
/// // Jitter every sample by up to 0.1, reproducibly.
/// let batcher = seeded(|items: Vec<f32>, rng: &mut whet_core::train::BatchRng, device: &Device| {
///     let n = items.len();
///     let x: Vec<f32> = items.iter().map(|x| x + rng.random_range(-0.1..0.1)).collect();
///     Tensor::<1>::from_data(TensorData::new(x, [n]), device)
/// });
/// # let _ = batcher;
/// ```
pub fn seeded<I, B, F>(f: F) -> Seeded<F>
where
    F: Fn(Vec<I>, &mut ChaCha8Rng, &Device) -> B,
{
    Seeded(f)
}

/// What [`seeded`] returns.
#[derive(Debug, Clone, Copy)]
pub struct Seeded<F>(F);

impl<I, B, F: Fn(Vec<I>, &mut ChaCha8Rng, &Device) -> B> Batcher<I, B> for Seeded<F> {
    fn batch(&self, items: Vec<I>, device: &Device) -> B {
        // Outside the Trainer: a fixed generator.
        let mut rng = crate::seed::Seed::new(0).rng();
        (self.0)(items, &mut rng, device)
    }
    fn batch_with_rng(&self, items: Vec<I>, rng: &mut ChaCha8Rng, device: &Device) -> B {
        (self.0)(items, rng, device)
    }
}

/// What one training step returns.
#[derive(Debug, Clone)]
pub struct StepOutput {
    /// The loss, `[1]`; the Trainer calls `backward` on it. A mean over the batch, or,
    /// with [`StepOutput::weight`], a sum over that many items.
    pub loss: Tensor<1>,
    /// How many items (tokens, say) `loss` sums over, `[1]`; `None`: `loss` is a mean and
    /// every micro-batch weighs the same.
    ///
    /// With weights, the optimiser step's loss is the sum of the accumulated
    /// micro-batches' losses divided by the sum of their weights: two micro-batches of
    /// 100 and 10 tokens train exactly as one batch of 110 tokens would, which averaging
    /// per-batch means does not (the bug Hugging Face's Trainer fixed with
    /// `num_items_in_batch`).
    pub weight: Option<Tensor<1>>,
    /// Extra metrics already on the host.
    pub metrics: Metrics,
    /// Extra metrics still on the device, `[1]` each: read back together with the loss in
    /// the step's one synchronisation.
    pub tensor_metrics: Vec<(String, Tensor<1>)>,
}

impl StepOutput {
    /// A mean loss and no extra metrics.
    pub fn new(loss: Tensor<1>) -> Self {
        StepOutput {
            loss,
            weight: None,
            metrics: Metrics::new(),
            tensor_metrics: Vec::new(),
        }
    }

    /// A loss summed over `weight` items (`[1]` each), normalised by the total weight of
    /// the optimiser step's micro-batches.
    pub fn summed(loss_sum: Tensor<1>, weight: Tensor<1>) -> Self {
        StepOutput {
            weight: Some(weight),
            ..StepOutput::new(loss_sum)
        }
    }

    /// Adds a metric already on the host.
    #[must_use]
    pub fn with_metric(mut self, name: impl Into<String>, value: f64) -> Self {
        self.metrics.insert(name.into(), value);
        self
    }

    /// Adds a metric still on the device (`[1]`), read back with the loss.
    #[must_use]
    pub fn with_metric_tensor(mut self, name: impl Into<String>, value: Tensor<1>) -> Self {
        self.tensor_metrics.push((name.into(), value));
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
