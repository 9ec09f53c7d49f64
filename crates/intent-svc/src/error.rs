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
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
