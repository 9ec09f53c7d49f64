//! The one error type of `whet-hard-mining`.

/// Everything that can go wrong while mining failures or keeping the review queue.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Inputs that do not fit together (lengths, shapes, a label without a class).
    #[error("{0}")]
    Input(String),

    /// The review queue's database failed (the file is named).
    #[error("{path}: {source}")]
    Sqlite {
        /// The database file.
        path: std::path::PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },

    /// The review queue refused an operation (an id that is not pending, a newer schema).
    #[error("review queue: {0}")]
    Queue(String),

    /// A file or folder operation of whet-core (atomic writes, JSONL records).
    #[error(transparent)]
    Core(#[from] whet_core::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
