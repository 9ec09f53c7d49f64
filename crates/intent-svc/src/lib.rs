//! # whet-intent-svc
//!
//! A self-hosted intent classifier: TF-IDF with scikit-learn semantics, a liblinear-style
//! linear SVM, Platt-calibrated confidence, dataset management, and a retraining pipeline
//! that deploys a new model only when it is not worse than the current one.
//!
//! It runs no tensors, so it does not depend on burn.
//!
//! **Status: planned.** Not yet implemented; this crate exports nothing yet.

// This crate is filled in by a later issue; until then it deliberately exports nothing.
