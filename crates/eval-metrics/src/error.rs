//! The one error type of `whet-eval-metrics`.

/// Everything that can go wrong while computing a metric.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Two parallel inputs (references and hypotheses, labels and predictions) differ in
    /// length.
    #[error("{what}: {left} {left_name} but {right} {right_name}")]
    LengthMismatch {
        /// Which metric was being computed.
        what: &'static str,
        /// Name of the first input.
        left_name: &'static str,
        /// Its length.
        left: usize,
        /// Name of the second input.
        right_name: &'static str,
        /// Its length.
        right: usize,
    },

    /// An input value outside the metric's domain (a probability above 1, a NaN score).
    #[error("{what}: record {index}: {reason}")]
    InvalidValue {
        /// Which metric was being computed.
        what: &'static str,
        /// 0-based index of the offending record.
        index: usize,
        /// What was wrong with it.
        reason: String,
    },

    /// A report could not be drawn or written (`plot` feature).
    #[error(transparent)]
    Core(#[from] whet_core::Error),

    /// A table that TEDS cannot score.
    #[error("table: {reason}")]
    Table {
        /// What is wrong with it.
        reason: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
