//! OCR metrics: text detection precision / recall / hmean over polygons, and text
//! recognition accuracy with PaddleOCR's normalised edit distance.

mod det;
mod hungarian;
pub mod polygon;
mod rec;

pub use det::{
    DetCounts, DetImage, DetReport, DoctrImage, DoctrReport, GtBox, detection_db, detection_doctr,
    detection_doctr_boxes, detection_per_image_mean, evaluate_image_db,
};
pub use hungarian::linear_sum_assignment;
pub use rec::{RecOptions, RecReport, recognition};
