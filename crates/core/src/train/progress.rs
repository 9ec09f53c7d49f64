//! The terminal progress bar: step, loss moving average, learning rate, samples/s, ETA.

use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Exponential moving average with bias correction (as Adam's moments), so early values
/// are not dragged towards zero.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ema {
    beta: f64,
    value: f64,
    count: i32,
}

impl Ema {
    pub(crate) fn new(beta: f64) -> Self {
        Ema {
            beta,
            value: 0.0,
            count: 0,
        }
    }
    pub(crate) fn push(&mut self, x: f64) -> f64 {
        self.count = self.count.saturating_add(1);
        self.value = self.beta * self.value + (1.0 - self.beta) * x;
        self.get()
    }
    pub(crate) fn get(&self) -> f64 {
        if self.count == 0 {
            f64::NAN
        } else {
            self.value / (1.0 - self.beta.powi(self.count))
        }
    }
}

pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    start_samples: u64,
}

impl Progress {
    pub(crate) fn new(enabled: bool, total: usize, done: usize, samples: u64) -> Self {
        let bar = enabled.then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} steps | {msg} | {elapsed_precise} < {eta_precise}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_position(done as u64);
            bar.reset_eta();
            bar
        });
        Progress {
            bar,
            started: Instant::now(),
            start_samples: samples,
        }
    }

    /// Samples per second since this bar started.
    pub(crate) fn throughput(&self, samples: u64) -> f64 {
        let secs = self.started.elapsed().as_secs_f64();
        if secs > 0.0 {
            (samples - self.start_samples) as f64 / secs
        } else {
            0.0
        }
    }

    pub(crate) fn update(&self, step: usize, loss_ema: f64, lr: f64, samples_per_sec: f64) {
        if let Some(bar) = &self.bar {
            bar.set_position(step as u64);
            bar.set_message(format!(
                "loss {loss_ema:.4} | lr {lr:.2e} | {samples_per_sec:.1} samples/s"
            ));
        }
    }

    pub(crate) fn println(&self, line: String) {
        if let Some(bar) = &self.bar {
            bar.println(line);
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
