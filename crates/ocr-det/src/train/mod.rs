//! Fine-tuning PP-OCRv4 on your own documents.
//!
//! Recognition: [`load_rec_labels`] reads PaddleOCR recognition labels,
//! [`width_batches`] groups lines by width, [`rec_batch`] makes tensors,
//! [`rec_step`] is the Trainer step (PaddleOCR's CTC loss); new characters are added
//! with [`crate::CharDict::with_chars`] and [`crate::SvtrRecognizer::with_dict`].

mod rec;

pub use rec::{
    RecBatch, RecItem, RecShape, Skipped, ctc_loss, load_rec_labels, rec_batch, rec_step,
    width_batches,
};
