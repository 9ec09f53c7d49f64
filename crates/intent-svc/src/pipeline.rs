//! The retraining pipeline: interactions are buffered and flushed to durable storage every
//! `flush_every` samples; after `retrain_after` new samples a model is trained on
//! everything stored, evaluated on a fixed held-out set, registered in whet-core's
//! registry, and promoted to production only when its macro-F1 is at least production's
//! minus `tolerance` (the first model always is). Every version is kept for rollback.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use whet_core::Goal;
use whet_core::data::{JsonlAppender, MalformedPolicy, read_jsonl};
use whet_core::registry::{Alias, NewVersion, PromotionDecision, PromotionRule, Registry};
use whet_eval_metrics::classification::classification_report;

use crate::dataset::{Dataset, Sample};
use crate::error::{Error, Result};
use crate::model::{IntentConfig, IntentModel};

/// Pipeline settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineConfig {
    /// Registry model name.
    pub model_name: String,
    /// Flush the buffer to storage every this many samples (20).
    pub flush_every: usize,
    /// Retrain after this many new samples (100).
    pub retrain_after: usize,
    /// Deploy when new macro-F1 >= production's - tolerance (0.05).
    pub tolerance: f64,
    /// How models are trained (vectoriser, SVM, calibration folds, out-of-scope label).
    pub model: IntentConfig,
    /// The out-of-scope threshold of the first model; every retrained model then takes
    /// production's (a threshold tuned on production, by [`IntentModel::tune_threshold`]
    /// or set by hand, survives retraining).
    pub threshold: Option<f64>,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            model_name: "intent".into(),
            flush_every: 20,
            retrain_after: 100,
            tolerance: 0.05,
            model: IntentConfig::default(),
            threshold: None,
        }
    }
}

/// Macro-averaged F1 of `model` on `eval`: scikit-learn's `f1_score(average="macro",
/// zero_division=0)` over the classes of the evaluation set and the predictions, through
/// whet-eval-metrics' `classification_report` (0 for an empty set).
pub fn macro_f1(model: &IntentModel, eval: &Dataset) -> f64 {
    let truth: Vec<&str> = eval.samples.iter().map(|s| s.intent.as_str()).collect();
    let preds: Vec<String> = eval
        .samples
        .iter()
        .map(|s| model.predict(&s.text, 1).intent)
        .collect();
    classification_report(&truth, &preds).map_or(0.0, |r| r.macro_avg.f1)
}

/// The pipeline over a data folder and a registry.
#[derive(Debug)]
pub struct Pipeline {
    config: PipelineConfig,
    store: PathBuf,
    registry: Registry,
    eval: Dataset,
    buffer: Vec<Sample>,
    since_retrain: usize,
}

impl Pipeline {
    /// Opens the pipeline: interactions are stored in `data_dir/interactions.jsonl`,
    /// models in the registry at `registry_root`, evaluated on `eval`.
    ///
    /// # Errors
    /// [`Error::Config`] for zero intervals; [`Error::Core`] when a folder cannot be made.
    pub fn open(
        data_dir: impl AsRef<Path>,
        registry_root: impl AsRef<Path>,
        eval: Dataset,
        config: PipelineConfig,
    ) -> Result<Self> {
        if config.flush_every == 0 || config.retrain_after == 0 {
            return Err(Error::Config {
                field: "pipeline",
                reason: "flush_every and retrain_after must be at least 1".into(),
            });
        }
        let dir = data_dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| whet_core::Error::file(dir, e))?;
        Ok(Pipeline {
            config,
            store: dir.join("interactions.jsonl"),
            registry: Registry::open(registry_root.as_ref())?,
            eval,
            buffer: Vec::new(),
            since_retrain: 0,
        })
    }

    /// Records one interaction; returns the promotion decision when it triggered a
    /// retraining.
    ///
    /// # Errors
    /// As [`Pipeline::flush`] and [`Pipeline::retrain`].
    pub fn record(&mut self, sample: Sample) -> Result<Option<PromotionDecision>> {
        self.buffer.push(sample);
        self.since_retrain += 1;
        if self.buffer.len() >= self.config.flush_every {
            self.flush()?;
        }
        if self.since_retrain >= self.config.retrain_after {
            self.flush()?;
            self.since_retrain = 0;
            return self.retrain().map(Some);
        }
        Ok(None)
    }

    /// Appends the buffered samples to storage and syncs it.
    ///
    /// # Errors
    /// [`Error::Core`].
    pub fn flush(&mut self) -> Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let mut out = JsonlAppender::open(&self.store)?;
        for s in &self.buffer {
            out.append(s)?;
        }
        out.sync()?;
        self.buffer.clear();
        Ok(())
    }

    /// Every stored sample.
    ///
    /// # Errors
    /// [`Error::Core`].
    pub fn stored(&self) -> Result<Dataset> {
        if !self.store.exists() {
            return Ok(Dataset::default());
        }
        let read = read_jsonl::<Sample>(&self.store, MalformedPolicy::Skip)?;
        Ok(Dataset {
            samples: read.records.into_iter().map(|(_, s)| s).collect(),
        })
    }

    /// Trains on everything stored (corrected samples weighing 2), gives the model
    /// production's out-of-scope threshold (the config's for the first model), registers
    /// it and promotes it if it passes the deploy rule.
    ///
    /// # Errors
    /// [`Error::Fit`] when the data cannot train a model; [`Error::Core`] for registry or
    /// file errors.
    pub fn retrain(&mut self) -> Result<PromotionDecision> {
        let mut data = self.stored()?;
        data.clean();
        let mut model = IntentModel::fit_dataset(&data, &self.config.model)?;
        model.threshold = match self.production()? {
            Some(prod) => prod.threshold,
            None => self.config.threshold,
        };
        self.deploy(&model)
    }

    /// Registers `model` (evaluated on the held-out set) and applies the deploy rule.
    ///
    /// # Errors
    /// [`Error::Core`].
    pub fn deploy(&mut self, model: &IntentModel) -> Result<PromotionDecision> {
        let f1 = macro_f1(model, &self.eval);
        let staging = tempdir_in(&self.store)?;
        model.save(staging.join("model.json"))?;
        let name = &self.config.model_name;
        let mut meta = NewVersion::new().metric("macro_f1", f1);
        if let Some(prod) = self.registry.alias(name, &Alias::Production)? {
            meta = meta.parent(prod.version);
        }
        let version = self.registry.register(name, &staging, meta)?;
        let _ = std::fs::remove_dir_all(&staging);
        let rule = PromotionRule::new("macro_f1", Goal::Maximize, self.config.tolerance);
        Ok(self
            .registry
            .promote_if_improved(name, version.version, &rule)?)
    }

    /// The production model, if any.
    ///
    /// # Errors
    /// As [`IntentModel::load`].
    pub fn production(&self) -> Result<Option<IntentModel>> {
        match self
            .registry
            .alias(&self.config.model_name, &Alias::Production)?
        {
            None => Ok(None),
            Some(v) => {
                let dir = self
                    .registry
                    .version_dir(&self.config.model_name, v.version)?;
                IntentModel::load(dir.join("model.json")).map(Some)
            }
        }
    }
}

fn tempdir_in(store: &Path) -> Result<PathBuf> {
    let parent = store.parent().unwrap_or(Path::new("."));
    let mut n = 0u32;
    loop {
        let dir = parent.join(format!(".model-staging-{}-{n}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
            Err(e) => return Err(whet_core::Error::file(&dir, e).into()),
        }
    }
}
