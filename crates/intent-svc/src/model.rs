//! The whole classifier, `predict` with an out-of-scope threshold, and its versioned
//! model file.

use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use whet_core::data::atomic_write;

use crate::calibrate::{CalibratedSvm, Prediction};
use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::svm::SvmConfig;
use crate::tfidf::{TfidfConfig, TfidfVectorizer};

/// The model file's format name.
pub const MODEL_FORMAT: &str = "whetstone-intent-model";
/// The model file's format version; a file of another version is refused.
pub const MODEL_VERSION: u32 = 1;

/// A trained intent classifier: TF-IDF, calibrated linear SVM, and an optional
/// out-of-scope rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentModel {
    /// The vectoriser.
    pub vectorizer: TfidfVectorizer,
    /// The calibrated classifier.
    pub classifier: CalibratedSvm,
    /// When the best confidence is below this, [`IntentModel::predict`] answers
    /// `out_of_scope_label` instead.
    pub threshold: Option<f64>,
    /// The label for out-of-scope messages (`oos` in CLINC150).
    pub out_of_scope_label: String,
}

/// One candidate of [`IntentModel::tune_threshold`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ThresholdScore {
    /// The candidate threshold.
    pub threshold: f64,
    /// Share of in-scope samples given their own intent.
    pub in_scope_accuracy: f64,
    /// Share of out-of-scope samples answered with the out-of-scope label.
    pub oos_recall: f64,
    /// The mean of the two: what the choice maximises.
    pub balanced: f64,
}

/// How an [`IntentModel`] is trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentConfig {
    /// Vectoriser settings.
    #[serde(default)]
    pub tfidf: TfidfConfig,
    /// SVM settings.
    #[serde(default)]
    pub svm: SvmConfig,
    /// Cross-validation folds of the sigmoid calibration (scikit-learn's `cv`, 5); every
    /// intent needs at least this many samples.
    #[serde(default = "default_folds")]
    pub calibration_folds: usize,
    /// The label of out-of-scope messages (`oos` in CLINC150).
    #[serde(default = "default_oos")]
    pub out_of_scope_label: String,
}

fn default_folds() -> usize {
    5
}
fn default_oos() -> String {
    "oos".into()
}

impl Default for IntentConfig {
    fn default() -> Self {
        IntentConfig {
            tfidf: TfidfConfig::default(),
            svm: SvmConfig::default(),
            calibration_folds: default_folds(),
            out_of_scope_label: default_oos(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct ModelFile {
    format: String,
    version: u32,
    model: IntentModel,
}

impl IntentModel {
    /// Trains on `(text, intent)` samples with the given vectoriser and SVM settings and
    /// the rest of [`IntentConfig`]'s defaults.
    ///
    /// # Errors
    /// As [`TfidfVectorizer::fit`] and [`CalibratedSvm::fit`].
    pub fn fit<T: AsRef<str>, L: AsRef<str>>(
        samples: &[(T, L)],
        tfidf: TfidfConfig,
        svm: &SvmConfig,
    ) -> Result<Self> {
        let config = IntentConfig {
            tfidf,
            svm: svm.clone(),
            ..IntentConfig::default()
        };
        Self::fit_weighted(samples, None, &config)
    }

    /// Trains on a [`Dataset`] with its per-sample weights
    /// ([`Dataset::sample_weights`]: a sample a person corrected weighs 2).
    ///
    /// ```
    /// use whet_intent_svc::{Dataset, IntentConfig, IntentModel, Sample};
    ///
    /// let sample = |text: &str, intent: &str, corrected: bool| Sample {
    ///     corrected,
    ///     ..Sample::new(text, intent)
    /// };
    /// let mut data = Dataset::default();
    /// for i in 0..6 {
    ///     data.samples.push(sample(&format!("where is my card {i}"), "card", false));
    ///     data.samples.push(sample(&format!("send money to mum {i}"), "transfer", i == 0));
    /// }
    /// let config = IntentConfig { calibration_folds: 3, ..IntentConfig::default() };
    /// let model = IntentModel::fit_dataset(&data, &config)?;
    /// assert_eq!(model.predict("my card is lost", 1).intent, "card");
    /// # Ok::<(), whet_intent_svc::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`IntentModel::fit_weighted`].
    pub fn fit_dataset(data: &Dataset, config: &IntentConfig) -> Result<Self> {
        let samples: Vec<(&str, &str)> = data
            .samples
            .iter()
            .map(|s| (s.text.as_str(), s.intent.as_str()))
            .collect();
        Self::fit_weighted(&samples, Some(&data.sample_weights()), config)
    }

    /// Trains on `(text, intent)` samples, each weighing `weights[i]` (1 when `None`):
    /// a weight of 2 trains the SVMs and the calibration as two copies of the sample
    /// would (the vocabulary and IDF are fitted on the texts, unweighted, as
    /// scikit-learn's `TfidfVectorizer` is).
    ///
    /// # Errors
    /// [`Error::Fit`] for a weight count that differs from the samples' or a weight that
    /// is not positive; as [`TfidfVectorizer::fit`] and [`CalibratedSvm::fit`].
    pub fn fit_weighted<T: AsRef<str>, L: AsRef<str>>(
        samples: &[(T, L)],
        weights: Option<&[f64]>,
        config: &IntentConfig,
    ) -> Result<Self> {
        let texts: Vec<&str> = samples.iter().map(|(t, _)| t.as_ref()).collect();
        let labels: Vec<&str> = samples.iter().map(|(_, l)| l.as_ref()).collect();
        let vectorizer = TfidfVectorizer::fit(config.tfidf.clone(), &texts)?;
        let rows: Vec<_> = texts.par_iter().map(|t| vectorizer.transform(t)).collect();
        let classifier = CalibratedSvm::fit(
            &rows,
            &labels,
            weights,
            vectorizer.vocabulary().len(),
            &config.svm,
            config.calibration_folds,
        )?;
        Ok(IntentModel {
            vectorizer,
            classifier,
            threshold: None,
            out_of_scope_label: config.out_of_scope_label.clone(),
        })
    }

    /// The intent of `text`, its calibrated confidence and the `k` best alternatives; the
    /// out-of-scope label when a threshold is set and the confidence is below it.
    pub fn predict(&self, text: &str, k: usize) -> Prediction {
        let mut p = self.classifier.predict(&self.vectorizer.transform(text), k);
        if self.threshold.is_some_and(|t| p.confidence < t) {
            p.intent = self.out_of_scope_label.clone();
        }
        p
    }

    /// Chooses the out-of-scope threshold on labelled validation samples (in-scope ones
    /// and ones labelled [`IntentModel::out_of_scope_label`]) and sets it: of the
    /// candidate thresholds (every 0.01 from 0 to 1), the one with the best *balanced*
    /// score, the mean of in-scope accuracy and out-of-scope recall, so neither kind of
    /// mistake is favoured by how many samples of each the validation set holds. Ties go
    /// to the lower threshold. Returns the score of every candidate.
    ///
    /// # Errors
    /// [`Error::Fit`] when the samples lack in-scope or out-of-scope messages.
    pub fn tune_threshold<T: AsRef<str>, L: AsRef<str>>(
        &mut self,
        validation: &[(T, L)],
    ) -> Result<Vec<ThresholdScore>> {
        let oos = self.out_of_scope_label.as_str();
        let n_oos = validation.iter().filter(|(_, l)| l.as_ref() == oos).count();
        let n_in = validation.len() - n_oos;
        if n_oos == 0 || n_in == 0 {
            return Err(Error::Fit {
                reason: format!(
                    "threshold tuning needs in-scope and {oos:?} samples ({n_in} and {n_oos})"
                ),
            });
        }
        let predictions: Vec<(String, f64)> = validation
            .iter()
            .map(|(t, _)| {
                let p = self
                    .classifier
                    .predict(&self.vectorizer.transform(t.as_ref()), 1);
                (p.intent, p.confidence)
            })
            .collect();
        let scores: Vec<ThresholdScore> = (0..=100)
            .map(|step| {
                let threshold = f64::from(step) / 100.0;
                let (mut right_in, mut caught) = (0, 0);
                for ((intent, confidence), (_, label)) in predictions.iter().zip(validation) {
                    let said = if *confidence < threshold { oos } else { intent };
                    match (label.as_ref() == oos, said == label.as_ref()) {
                        (true, true) => caught += 1,
                        (false, true) => right_in += 1,
                        _ => {}
                    }
                }
                let in_scope_accuracy = f64::from(right_in) / n_in as f64;
                let oos_recall = f64::from(caught) / n_oos as f64;
                ThresholdScore {
                    threshold,
                    in_scope_accuracy,
                    oos_recall,
                    balanced: (in_scope_accuracy + oos_recall) / 2.0,
                }
            })
            .collect();
        let best = scores.iter().fold(
            &scores[0],
            |b, s| if s.balanced > b.balanced { s } else { b },
        );
        self.threshold = Some(best.threshold);
        Ok(scores)
    }

    /// Writes the model file (JSON with format name and version), atomically.
    ///
    /// # Errors
    /// [`Error::Core`] when the file cannot be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let file = ModelFile {
            format: MODEL_FORMAT.into(),
            version: MODEL_VERSION,
            model: self.clone(),
        };
        let bytes = serde_json::to_vec(&file).map_err(|e| Error::ModelFile {
            path: path.as_ref().to_owned(),
            reason: e.to_string(),
        })?;
        atomic_write(path, &bytes)?;
        Ok(())
    }

    /// Reads a model file.
    ///
    /// # Errors
    /// [`Error::ModelFile`] for a file of another format or version, or not JSON;
    /// [`Error::Core`] when it cannot be read.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| whet_core::Error::file(path, e))?;
        let bad = |reason: String| Error::ModelFile {
            path: path.to_owned(),
            reason,
        };
        let head: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| bad(format!("not JSON: {e}")))?;
        if head["format"] != MODEL_FORMAT {
            return Err(bad(format!(
                "not a {MODEL_FORMAT} file (format {})",
                head["format"]
            )));
        }
        if head["version"] != MODEL_VERSION {
            return Err(bad(format!(
                "format version {} (this build reads version {MODEL_VERSION})",
                head["version"]
            )));
        }
        let file: ModelFile = serde_json::from_value(head).map_err(|e| bad(e.to_string()))?;
        Ok(file.model)
    }
}
