//! Fine-tuning PP-OCRv4 on your own documents.
//!
//! Detection: [`load_det_labels`] reads PaddleOCR detection labels, [`det_crop`] draws
//! augmented crops, [`db_targets`] makes the shrink and threshold maps, [`det_batch`]
//! tensors, [`DbTrainNet`] adds the DB head's threshold branch and [`det_step`] is the
//! Trainer step (the DB loss).
//!
//! Recognition: [`load_rec_labels`] reads PaddleOCR recognition labels,
//! [`width_batches`] groups lines by width, [`rec_batch`] makes tensors,
//! [`rec_step`] is the Trainer step (PaddleOCR's CTC loss); new characters are added
//! with [`crate::CharDict::with_chars`] and [`crate::SvtrRecognizer::with_dict`].

mod augment;
mod db_labels;
mod det;
mod rec;

/// Opens a labelled image named relative to its label file.
pub(crate) fn open_image(path: &std::path::Path) -> crate::error::Result<image::RgbImage> {
    image::open(path)
        .map(|i| i.to_rgb8())
        .map_err(|e| crate::error::Error::Image {
            path: path.to_owned(),
            reason: e.to_string(),
        })
}

pub use augment::{augment_line, augment_lines};
pub use db_labels::{DbLabelConfig, DbTargets, db_targets};
pub use det::{
    DbTrainNet, DetAugment, DetBatch, DetItem, ShrinkLoss, db_loss, det_batch, det_crop,
    det_samples, det_step, load_det_labels,
};

pub use rec::{
    RecBatch, RecItem, RecShape, Skipped, ctc_loss, distill_loss, load_rec_labels, rec_batch,
    rec_distill_step, rec_step, width_batches,
};
