//! The one error type of `whet-vlm-lora`.

/// Everything that can go wrong loading and running a language model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// whet-core: files, GGUF, LoRA, quantisation.
    #[error(transparent)]
    Core(#[from] whet_core::Error),

    /// A model folder's file that is malformed (JSON, safetensors) or describes a
    /// model this crate does not build.
    #[error("{}: {reason}", path.display())]
    Model {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },

    /// A model file whose tensors do not fit the configuration.
    #[error("{tensor}: {reason}")]
    Weights {
        /// The tensor.
        tensor: String,
        /// What does not fit.
        reason: String,
    },

    /// A tokenizer that cannot be rebuilt or run.
    #[error("tokenizer: {reason}")]
    Tokenizer {
        /// What is wrong.
        reason: String,
    },

    /// A grammar or JSON schema that does not compile, or a generation it cannot
    /// continue.
    #[error("grammar: {reason}")]
    Grammar {
        /// What is wrong.
        reason: String,
    },

    /// Token ids outside the vocabulary, or a prompt longer than the context.
    #[error("input: {reason}")]
    Input {
        /// What is wrong.
        reason: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
