//! From failure analysis to a synth-docs [`SynthesisPlan`]: features whose documents fail
//! more often than the rest are asked for more often.
//!
//! ```
//! use whet_hard_mining::analysis::{Analysis, FeatureStats};
//! use whet_hard_mining::plan::{PlanConfig, synthesis_plan};
//! use whet_synth_docs::{DocFeature, SynthesisPlan};
//! let mut analysis = Analysis { documents: 100, failed_documents: 20, ..Analysis::default() };
//! analysis.by_feature.insert(DocFeature::FadedPrint,
//!     FeatureStats { documents: 10, failed_documents: 8, ..FeatureStats::default() });
//! analysis.by_feature.insert(DocFeature::LongTable,
//!     FeatureStats { documents: 30, failed_documents: 3, ..FeatureStats::default() });
//! let base = SynthesisPlan::default();
//! let plan = synthesis_plan(&analysis, &base, &PlanConfig::default());
//! // Faded prints fail 4 times as often as documents overall: asked for far more often.
//! assert!(plan.features[&DocFeature::FadedPrint] > 0.3);
//! // Long tables fail less than average: left as the base plan has them (absent).
//! assert!(!plan.features.contains_key(&DocFeature::LongTable));
//! ```

use serde::{Deserialize, Serialize};
use whet_synth_docs::SynthesisPlan;

use crate::analysis::Analysis;

/// How failure rates become probabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanConfig {
    /// Only features seen on at least this many documents are re-weighted (default 5).
    pub min_documents: usize,
    /// The probability a failing feature starts from when the base plan lacks it
    /// (default 0.1).
    pub floor: f64,
    /// The most any feature is asked for (default 0.8): the rest of the mix stays varied.
    pub ceiling: f64,
    /// Target one error kind or family (`ocr_confusion`, `format_error`, ...); `None`: any
    /// error.
    pub kind: Option<String>,
}

impl Default for PlanConfig {
    fn default() -> Self {
        PlanConfig {
            min_documents: 5,
            floor: 0.1,
            ceiling: 0.8,
            kind: None,
        }
    }
}

/// The plan for the next round: for each feature seen on at least `min_documents`
/// documents whose failure rate `r_f` is above the overall rate `r`, the probability
/// becomes `clamp(max(base, floor) * r_f / r, floor, ceiling)`; every other feature keeps
/// its base probability. With no failures at all, the base plan is returned.
pub fn synthesis_plan(
    analysis: &Analysis,
    base: &SynthesisPlan,
    config: &PlanConfig,
) -> SynthesisPlan {
    let kind = config.kind.as_deref();
    let overall = analysis.failure_rate(kind);
    let mut plan = base.clone();
    if overall <= 0.0 {
        return plan;
    }
    for (&feature, stats) in &analysis.by_feature {
        if stats.documents < config.min_documents {
            continue;
        }
        let Some(rate) = analysis.feature_failure_rate(feature, kind) else {
            continue;
        };
        if rate <= overall {
            continue;
        }
        let start = base
            .features
            .get(&feature)
            .copied()
            .unwrap_or(0.0)
            .max(config.floor);
        let p = (start * rate / overall).clamp(config.floor, config.ceiling);
        tracing::debug!(?feature, rate, overall, p, "feature re-weighted");
        plan.features.insert(feature, p);
    }
    plan
}
