//! One optimiser step's values: what the Trainer accumulates over micro-batches, reads
//! back from the device in one synchronisation, and averages and writes for the log.

use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use serde::Serialize;

use super::step::Metrics;
use crate::error::{Error, Result};

/// Means of the logged quantities since the last log line.
#[derive(Default)]
pub(super) struct Window {
    n: usize,
    sums: Metrics,
    norms: usize,
}

impl Window {
    pub(super) fn push(&mut self, loss: f64, lr: f64, grad_norm: Option<f64>, metrics: &Metrics) {
        self.n += 1;
        *self.sums.entry("train/loss".into()).or_insert(0.0) += loss;
        *self.sums.entry("train/lr".into()).or_insert(0.0) += lr;
        if let Some(n) = grad_norm {
            self.norms += 1;
            *self.sums.entry("train/grad_norm".into()).or_insert(0.0) += n;
        }
        for (k, v) in metrics {
            *self.sums.entry(format!("train/{k}")).or_insert(0.0) += v;
        }
    }

    pub(super) fn drain(&mut self) -> Metrics {
        let n = self.n.max(1) as f64;
        let norms = self.norms.max(1) as f64;
        let out = std::mem::take(&mut self.sums)
            .into_iter()
            .map(|(k, v)| {
                let d = if k == "train/grad_norm" { norms } else { n };
                (k, v / d)
            })
            .collect();
        self.n = 0;
        self.norms = 0;
        out
    }
}

/// One optimiser step's gradients and what the host reads back.
#[derive(Default)]
pub(super) struct Accumulated {
    pub(super) grads: GradientsParams,
    pub(super) losses: Vec<Tensor<1>>,
    pub(super) weights: Option<Vec<Tensor<1>>>,
    pub(super) square_sum: Option<Tensor<1>>,
    pub(super) metrics: Metrics,
    pub(super) tensor_metrics: Vec<(String, Tensor<1>)>,
}

/// The step's values on the host.
pub(super) struct Read {
    pub(super) loss: f64,
    pub(super) losses_finite: bool,
    pub(super) grad_norm: Option<f64>,
    pub(super) metrics: Metrics,
}

impl Read {
    pub(super) fn non_finite(&self) -> Option<&'static str> {
        if !self.losses_finite || !self.loss.is_finite() {
            Some("loss")
        } else if self.grad_norm.is_some_and(|n| !n.is_finite()) {
            Some("gradient")
        } else {
            None
        }
    }
}

impl Accumulated {
    /// Losses, weights, the gradients' sum of squares and the tensor metrics in one read.
    pub(super) fn read_back(&self) -> Result<Read> {
        let n = self.losses.len();
        let mut all: Vec<Tensor<1>> = self.losses.clone();
        let n_weights = self.weights.as_ref().map_or(0, Vec::len);
        all.extend(self.weights.iter().flatten().cloned());
        let has_norm = self.square_sum.is_some();
        all.extend(self.square_sum.iter().cloned());
        all.extend(self.tensor_metrics.iter().map(|(_, t)| t.clone()));
        let values: Vec<f32> = Tensor::cat(all, 0)
            .into_data()
            .try_into_vec::<f32>()
            .map_err(|e| Error::Readback {
                what: "the step's losses",
                reason: format!("{e:?}"),
            })?;
        let (losses, rest) = values.split_at(n);
        let (weights, rest) = rest.split_at(n_weights);
        let (norm, rest) = rest.split_at(usize::from(has_norm));
        let loss_sum: f64 = losses.iter().map(|&v| f64::from(v)).sum();
        let loss = if n_weights > 0 {
            loss_sum / weights.iter().map(|&w| f64::from(w)).sum::<f64>()
        } else {
            loss_sum / n as f64
        };
        let mut metrics = self.metrics.clone();
        let mut counts: Metrics = Metrics::new();
        for ((name, _), v) in self.tensor_metrics.iter().zip(rest) {
            *metrics.entry(name.clone()).or_insert(0.0) += f64::from(*v);
            *counts.entry(name.clone()).or_insert(0.0) += 1.0;
        }
        for (name, c) in counts {
            if let Some(v) = metrics.get_mut(&name) {
                *v /= c;
            }
        }
        Ok(Read {
            loss,
            losses_finite: losses.iter().all(|v| v.is_finite()),
            grad_norm: norm.first().map(|sq| f64::from(*sq).sqrt()),
            metrics,
        })
    }
}

/// One line of the run's `metrics.jsonl`.
#[derive(Serialize)]
pub(super) struct LogRecord<'a> {
    pub(super) step: usize,
    pub(super) epoch: usize,
    pub(super) timestamp: i64,
    #[serde(flatten)]
    pub(super) values: &'a Metrics,
}

/// `name value, ...` with four decimals, for progress lines and logs.
pub(super) fn fmt_metrics(m: &Metrics) -> String {
    m.iter()
        .map(|(k, v)| format!("{k} {v:.4}"))
        .collect::<Vec<_>>()
        .join(", ")
}
