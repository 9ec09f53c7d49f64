//! Which direction of a metric is better.

use serde::{Deserialize, Serialize};

/// Whether a larger or smaller metric is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    /// Smaller is better (losses, error rates).
    Minimize,
    /// Larger is better (accuracy, F1).
    Maximize,
}

impl Goal {
    /// Whether `candidate` beats `best` by more than `min_delta`.
    pub fn improves(self, candidate: f64, best: f64, min_delta: f64) -> bool {
        match self {
            Goal::Minimize => candidate < best - min_delta,
            Goal::Maximize => candidate > best + min_delta,
        }
    }
}
