//! # whet-intent-svc
//!
//! A self-hosted intent classifier: TF-IDF with scikit-learn semantics, a liblinear-style
//! linear SVM, Platt-calibrated confidence, dataset management, and a retraining pipeline
//! that deploys a new model only when it is not worse than the current one.
//!
//! It runs no tensors, so it does not depend on burn.
//!
//! The TF-IDF vectoriser, the linear SVM and the sigmoid calibration are checked against
//! scikit-learn on CLINC150 (identical vocabulary, idf and rows; all 5,500 test
//! predictions equal); `examples/intent_clinc150.rs` trains, calibrates and tunes the
//! out-of-scope threshold on CLINC150; [`Pipeline`] retrains and deploys only when not
//! worse.
//!
//! ```
//! use whet_intent_svc::{TfidfConfig, TfidfVectorizer};
//! let docs = ["what is my balance", "transfer money to savings", "what is the weather"];
//! let v = TfidfVectorizer::fit(TfidfConfig::default(), &docs)?;
//! let row = v.transform("what is my balance");
//! let norm: f64 = row.values.iter().map(|x| x * x).sum();
//! assert!((norm - 1.0).abs() < 1e-12);
//! # Ok::<(), whet_intent_svc::Error>(())
//! ```

mod calibrate;
mod dataset;
mod error;
mod model;
mod pipeline;
mod svm;
mod tfidf;

pub use calibrate::{CalibratedSvm, Prediction, Sigmoid, stratified_folds};
pub use dataset::{BadRow, CleanReport, CsvColumns, Dataset, Sample, Source, Stats};
pub use error::{Error, Result};
pub use model::{IntentConfig, IntentModel, MODEL_FORMAT, MODEL_VERSION, ThresholdScore};
pub use pipeline::{Pipeline, PipelineConfig, macro_f1};
pub use svm::{LinearSvm, Loss, SvmConfig};
pub use tfidf::{DocFreq, SparseRow, TfidfConfig, TfidfVectorizer};
