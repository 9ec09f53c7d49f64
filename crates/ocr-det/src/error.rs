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

    /// An image that cannot be read or decoded.
    #[error("{path}: cannot read the image: {reason}")]
    Image {
        /// The file.
        path: PathBuf,
        /// The decoder's message.
        reason: String,
    },

    /// A label file that cannot be read (whet-synth-docs' PaddleOCR label reader names
    /// the file and line).
    #[error(transparent)]
    Labels(#[from] whet_synth_docs::Error),

    /// Reading a file failed (whet-core's file errors name the path).
    #[error(transparent)]
    Core(#[from] whet_core::Error),
}

impl Error {
    pub(crate) fn weights(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Weights {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
