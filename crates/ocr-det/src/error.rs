//! The one error type of `whet-ocr-det`.

use std::path::PathBuf;

/// Everything that can go wrong in OCR.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A weight file that is missing, truncated, corrupt or not the expected model.
    #[error("{path}: {reason}")]
    Weights {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// Settings or data a recipe cannot work with.
    #[error("invalid {what}: {reason}")]
    Config {
        /// What is invalid.
        what: &'static str,
        /// Why.
        reason: String,
    },

    /// A tensor could not be read back from the device (a lost GPU, say).
    #[error("cannot read {what} back from the device: {reason}")]
    Readback {
        /// What was being read.
        what: &'static str,
        /// The backend's message.
        reason: String,
    },

    /// An image that cannot be read or decoded.
    #[error("{path}: cannot read the image: {reason}")]
    Image {
        /// The file.
        path: PathBuf,
        /// The decoder's message.
        reason: String,
    },

    /// Reading a file failed, or a label file is malformed (whet-core's errors name the
    /// path, and the line of a label file).
    #[error(transparent)]
    Core(#[from] whet_core::Error),
}

impl Error {
    pub(crate) fn readback(what: &'static str, e: impl std::fmt::Debug) -> Self {
        Error::Readback {
            what,
            reason: format!("{e:?}"),
        }
    }

    pub(crate) fn weights(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Weights {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
