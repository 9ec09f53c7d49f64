//! The one error type of `whet-intent-svc`.

/// Everything that can go wrong in the intent service.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting outside its domain.
    #[error("invalid {field}: {reason}")]
    Config {
        /// The setting.
        field: &'static str,
        /// Why it was refused.
        reason: String,
    },

    /// Fitting found nothing to learn from.
    #[error("cannot fit: {reason}")]
    Fit {
        /// Why.
        reason: String,
    },

    /// A model file that is not a Whetstone intent model of this format version.
    #[error("{path}: {reason}")]
    ModelFile {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong (format, version, or the JSON error).
        reason: String,
    },

    /// A dataset file that cannot be used.
    #[error("{path}:{line}: {reason}")]
    Dataset {
        /// The file.
        path: std::path::PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },

    /// Writing or reading a file failed (whet-core's atomic writes).
    #[error(transparent)]
    Core(#[from] whet_core::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
