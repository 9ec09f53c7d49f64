//! The one error type of `whet-synth-docs`.

/// Everything that can go wrong while generating documents.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A generation setting outside its domain.
    #[error("invalid {field}: {reason}")]
    Config {
        /// The setting.
        field: &'static str,
        /// Why it was refused.
        reason: String,
    },

    /// No usable font: none of the known paths holds a TrueType font, or one failed to
    /// load.
    #[error("font: {reason} (install fonts-dejavu-core, or pass a .ttf path)")]
    Font {
        /// What went wrong.
        reason: String,
    },

    /// An image could not be encoded.
    #[error("{path}: cannot encode the image: {reason}")]
    Image {
        /// The file being written.
        path: std::path::PathBuf,
        /// The encoder's message.
        reason: String,
    },

    /// A dataset folder holds a dataset made otherwise than asked (other settings, or
    /// other fonts than this machine renders with); it is left as it is.
    #[error("{dir}: the dataset there was {reason}; remove it or use another folder")]
    Stale {
        /// The dataset folder.
        dir: std::path::PathBuf,
        /// What differs.
        reason: String,
    },

    /// Writing a dataset file failed (whet-core's atomic writes and JSONL).
    #[error(transparent)]
    Core(#[from] whet_core::Error),

    /// An amount overflowed the integer minor units it is kept in.
    #[error("amount overflow in {what}")]
    Overflow {
        /// Which computation.
        what: &'static str,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
