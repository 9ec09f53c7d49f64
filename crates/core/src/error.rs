//! The one error type of `whet-core`.

use std::path::PathBuf;

/// Everything that can go wrong in `whet-core`.
///
/// Variants carry the file, line or value that caused them, so a message can be acted
/// on without a debugger.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A device string (argument or `WHET_DEVICE`) could not be parsed.
    #[error(
        "invalid device {input:?}: {reason} (expected cpu, wgpu, wgpu:N, wgpu:integrated:N, wgpu:cpu or cuda:N)"
    )]
    DeviceParse {
        /// What was given.
        input: String,
        /// Why it was refused.
        reason: String,
    },

    /// The requested backend was not compiled into this build.
    #[error(
        "device {spec} needs the `{feature}` cargo feature, which this build of whet-core lacks (rebuild with `--features {feature}`)"
    )]
    BackendNotCompiled {
        /// The device that was asked for, as written by `Display`.
        spec: String,
        /// The cargo feature of `whet-core` (forwarded by every Whetstone crate) that enables it.
        feature: &'static str,
    },

    /// A JSONL record could not be decoded.
    #[error("{path}:{line}: {reason}")]
    JsonlRecord {
        /// The file being read.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What was wrong with the record.
        reason: String,
    },

    /// A record could not be encoded as JSON while writing `path`.
    #[error("{path}: record {index}: cannot encode as JSON: {source}")]
    JsonlEncode {
        /// The file being written.
        path: PathBuf,
        /// 0-based index of the record in the written sequence.
        index: usize,
        /// The serializer's error.
        source: serde_json::Error,
    },

    /// Split ratios that are negative, not finite, or do not sum to 1.
    #[error("invalid split ratios {ratios:?}: {reason}")]
    SplitRatios {
        /// The ratios given (train, validation, test).
        ratios: [f64; 3],
        /// Why they were refused.
        reason: &'static str,
    },

    /// A configuration value that cannot work.
    #[error("invalid {field}: {reason}")]
    Config {
        /// The field (dotted path) at fault.
        field: &'static str,
        /// Why it was refused.
        reason: String,
    },

    /// A file Whetstone wrote (run metadata, checkpoint state, registry index) is malformed.
    #[error("{path}:{line}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// 1-based line, or 0 when the problem is not on one line.
        line: usize,
        /// What is wrong.
        reason: String,
    },

    /// Training met a NaN or infinite loss or gradient it could not get past.
    #[error("non-finite {what} at step {step}: {reason}")]
    NonFinite {
        /// `loss` or `gradient`.
        what: &'static str,
        /// The optimiser step being computed.
        step: usize,
        /// What the policy did.
        reason: String,
    },

    /// A checkpoint could not be written or read.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint {
        /// The checkpoint folder or file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },

    /// The training data could not produce a batch.
    #[error("dataset: {reason}")]
    Dataset {
        /// What went wrong.
        reason: String,
    },

    /// A value could not be read back from the device.
    #[error("cannot read {what} back from the device: {reason}")]
    Readback {
        /// What was being read.
        what: &'static str,
        /// The backend's error.
        reason: String,
    },

    /// A model-registry operation was refused.
    #[error("registry {path}: {reason}")]
    Registry {
        /// The registry folder.
        path: PathBuf,
        /// Why.
        reason: String,
    },

    /// A plot could not be drawn.
    #[error("plot {path}: {reason}")]
    Plot {
        /// The image being written.
        path: PathBuf,
        /// Why.
        reason: String,
    },

    /// Values that do not fit a ggml block format.
    #[error("{format}: {reason}")]
    Quant {
        /// The format (`"Q4_1"`).
        format: &'static str,
        /// What is wrong.
        reason: String,
    },

    /// A GGUF file that is not one, or is cut short; `at` names the header field, the
    /// metadata key or the tensor.
    #[error("{path}: GGUF {at}: {reason}")]
    Gguf {
        /// The file.
        path: PathBuf,
        /// Where in it (`"tensor blk.0.attn_q.weight"`).
        at: String,
        /// What is wrong.
        reason: String,
    },

    /// A LoRA adapter that does not fit the model or its own files.
    #[error("LoRA adapter {adapter}: {reason}")]
    Lora {
        /// The adapter's name, or its file.
        adapter: String,
        /// What is wrong.
        reason: String,
    },

    /// An I/O error on a named file.
    #[error("{path}: {source}")]
    File {
        /// The file or folder involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with the path it happened on.
    pub fn file(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::File {
            path: path.into(),
            source,
        }
    }
}
