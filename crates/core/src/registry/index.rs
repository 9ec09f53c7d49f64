//! The registry's data: versions, aliases, the decision history, and the promotion rule.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::data::Fingerprint;
use crate::goal::Goal;

/// A named pointer to a version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Alias {
    /// What serves traffic.
    Production,
    /// The version under evaluation.
    Candidate,
    /// Any other name.
    Custom(String),
}

impl Alias {
    /// The alias's name.
    pub fn as_str(&self) -> &str {
        match self {
            Alias::Production => "production",
            Alias::Candidate => "candidate",
            Alias::Custom(s) => s,
        }
    }
}

impl From<&str> for Alias {
    fn from(s: &str) -> Self {
        match s {
            "production" => Alias::Production,
            "candidate" => Alias::Candidate,
            other => Alias::Custom(other.to_owned()),
        }
    }
}

impl fmt::Display for Alias {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Alias {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Alias {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Alias::from(String::deserialize(d)?.as_str()))
    }
}

/// Metadata of a version being registered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewVersion {
    /// Evaluation metrics (`macro_f1`, `cer`, ...).
    pub metrics: BTreeMap<String, f64>,
    /// Fingerprint of the training data.
    pub dataset: Option<Fingerprint>,
    /// The version this one was fine-tuned from.
    pub parent: Option<u32>,
    /// The training configuration.
    pub config: serde_json::Value,
    /// The run that produced it (a run folder or MLflow run id).
    pub run: Option<String>,
    /// Free text.
    pub note: String,
}

impl NewVersion {
    /// Empty metadata.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a metric.
    #[must_use]
    pub fn metric(mut self, name: &str, value: f64) -> Self {
        self.metrics.insert(name.to_owned(), value);
        self
    }
    /// Sets the dataset fingerprint.
    #[must_use]
    pub fn dataset(mut self, fingerprint: Fingerprint) -> Self {
        self.dataset = Some(fingerprint);
        self
    }
    /// Sets the parent version.
    #[must_use]
    pub fn parent(mut self, version: u32) -> Self {
        self.parent = Some(version);
        self
    }
    /// Sets the training configuration.
    #[must_use]
    pub fn config(mut self, config: serde_json::Value) -> Self {
        self.config = config;
        self
    }
    /// Sets the producing run.
    #[must_use]
    pub fn run(mut self, run: impl Into<String>) -> Self {
        self.run = Some(run.into());
        self
    }
    /// Sets the note.
    #[must_use]
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }
}

/// One registered version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelVersion {
    /// 1, 2, 3, ... in registration order; never reused.
    pub version: u32,
    /// Registration time, milliseconds since the Unix epoch.
    pub created_ms: i64,
    /// Files of the version, relative to its folder.
    pub files: Vec<String>,
    /// Fingerprint of the version's files.
    pub content: Fingerprint,
    /// The metadata given at registration.
    #[serde(flatten)]
    pub meta: NewVersion,
}

/// What happened, recorded in the index's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A version was registered.
    Register,
    /// A version was promoted to production.
    Promote,
    /// A version was evaluated for promotion and refused.
    Reject,
    /// Production was moved back to an earlier version.
    Rollback,
    /// An alias was set by hand.
    SetAlias,
}

/// One entry of the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When, milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// What.
    pub kind: EventKind,
    /// The version concerned.
    pub version: u32,
    /// The alias concerned, if any.
    pub alias: Option<Alias>,
    /// The version the alias pointed at before, if any.
    pub previous: Option<u32>,
    /// Why, in words.
    pub reason: String,
}

/// A model's `index.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelIndex {
    /// Format version of this file.
    pub format: u32,
    /// The model's name.
    pub name: String,
    /// Every version ever registered, in order.
    pub versions: Vec<ModelVersion>,
    /// Alias -> version.
    pub aliases: BTreeMap<Alias, u32>,
    /// Every registration, promotion, refusal and rollback.
    pub history: Vec<Event>,
}

impl ModelIndex {
    pub(crate) const FORMAT: u32 = 1;

    pub(crate) fn new(name: &str) -> Self {
        ModelIndex {
            format: Self::FORMAT,
            name: name.to_owned(),
            versions: Vec::new(),
            aliases: BTreeMap::new(),
            history: Vec::new(),
        }
    }

    /// The version numbered `version`.
    pub fn get(&self, version: u32) -> Option<&ModelVersion> {
        self.versions.iter().find(|v| v.version == version)
    }

    /// The version an alias points at.
    pub fn resolve(&self, alias: &Alias) -> Option<&ModelVersion> {
        self.aliases.get(alias).and_then(|&v| self.get(v))
    }

    /// The next version number.
    pub(crate) fn next_version(&self) -> u32 {
        self.versions.iter().map(|v| v.version).max().unwrap_or(0) + 1
    }
}

/// The deploy rule: promote a candidate when its metric is not worse than production's
/// by more than `tolerance` (`new >= baseline - tolerance` when larger is better).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromotionRule {
    /// The metric compared.
    pub metric: String,
    /// Which direction is better.
    pub goal: Goal,
    /// How much worse than production a candidate may be and still be promoted.
    pub tolerance: f64,
}

impl PromotionRule {
    /// A rule on `metric`.
    pub fn new(metric: &str, goal: Goal, tolerance: f64) -> Self {
        PromotionRule {
            metric: metric.to_owned(),
            goal,
            tolerance,
        }
    }

    /// Whether `candidate` passes against `baseline`.
    pub fn accepts(&self, candidate: f64, baseline: f64) -> bool {
        if !candidate.is_finite() {
            return false;
        }
        match self.goal {
            Goal::Maximize => candidate >= baseline - self.tolerance,
            Goal::Minimize => candidate <= baseline + self.tolerance,
        }
    }
}

/// The outcome of [`Registry::promote_if_improved`](super::Registry::promote_if_improved).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromotionDecision {
    /// Whether production now points at the candidate.
    pub promoted: bool,
    /// The candidate version.
    pub candidate: u32,
    /// Its value of the rule's metric.
    pub candidate_value: f64,
    /// The production version it was compared with, and its value (`None`: first version).
    pub baseline: Option<(u32, f64)>,
    /// Why, in words (also recorded in the history).
    pub reason: String,
}
