//! The one error type of `whet-whisper-ft`.

use std::path::PathBuf;

/// Everything that can go wrong reading audio and running Whisper.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// whet-core: files, devices, tensors.
    #[error(transparent)]
    Core(#[from] whet_core::Error),

    /// An audio file that cannot be opened, or whose bytes are not the audio its header
    /// says (a truncated sample, a malformed header).
    #[error("{}: {reason}", path.display())]
    Audio {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },

    /// Audio in a form this crate does not read (a container, codec or sample format).
    #[error("{}: unsupported audio: {what}", path.display())]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What is not supported.
        what: String,
    },

    /// A model file that cannot be read, is malformed, or describes a model this crate
    /// does not build.
    #[error("{}: {reason}", path.display())]
    Model {
        /// The file.
        path: PathBuf,
        /// What is wrong (naming the variable, where one is at fault).
        reason: String,
    },

    /// A mel filter bank file that cannot be read or lacks the bank asked for.
    #[error("{}: {reason}", path.display())]
    Filters {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },

    /// An external program this crate runs (espeak-ng) that is missing or failed.
    #[error("{program}: {reason}")]
    Tool {
        /// The program.
        program: String,
        /// What went wrong (its message).
        reason: String,
    },

    /// Arguments out of range (a sample rate, a number of mel bins).
    #[error("input: {reason}")]
    Input {
        /// What is wrong.
        reason: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
