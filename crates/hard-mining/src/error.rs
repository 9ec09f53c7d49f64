//! The one error type of `whet-hard-mining`.

/// Everything that can go wrong while mining failures or keeping the review queue.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Inputs that do not fit together (lengths, shapes, a label without a class, a
    /// share outside 0..=1, nothing to draw from).
    #[error("invalid {what}: {reason}")]
    Input {
        /// Which input.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// The review queue's database failed (the file is named).
    #[error("{path}: {source}")]
    Sqlite {
        /// The database file.
        path: std::path::PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },

    /// A review that names an item that is not pending (unknown, or already reviewed).
    #[error("{path}: item {id} is not pending (unknown or already reviewed)")]
    NotPending {
        /// The queue's database.
        path: std::path::PathBuf,
        /// The item's id.
        id: i64,
    },

    /// A queue whose schema is newer than this build.
    #[error("{path}: schema version {found} is newer than this build knows ({known})")]
    NewerSchema {
        /// The queue's database.
        path: std::path::PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest this build knows.
        known: usize,
    },

    /// A value in the queue that cannot be read or written: an item's context that is
    /// not JSON, a status this build does not know.
    #[error("{path}: item {item}: {reason}")]
    Record {
        /// The queue's database (empty before it is written).
        path: std::path::PathBuf,
        /// The item's id or key.
        item: String,
        /// What is wrong.
        reason: String,
    },

    /// The database file failed SQLite's integrity check, or a writer panicked while
    /// holding it.
    #[error("{path}: {report}")]
    Corrupt {
        /// The queue's database.
        path: std::path::PathBuf,
        /// SQLite's report.
        report: String,
    },

    /// A file or folder operation of whet-core (atomic writes, JSONL records).
    #[error(transparent)]
    Core(#[from] whet_core::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
