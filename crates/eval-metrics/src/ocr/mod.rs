//! OCR metrics: text detection precision / recall / hmean over polygons, text
//! recognition accuracy with PaddleOCR's normalised edit distance, and both end to end
//! (lines found and read against ground-truth lines).

mod det;
mod det_errors;
mod end_to_end;
mod hungarian;
pub mod polygon;
mod rec;

pub use det::{
    DetCounts, DetImage, DetReport, DoctrImage, DoctrReport, detection_db, detection_doctr,
    detection_doctr_boxes, detection_per_image_mean, evaluate_image_db,
};
pub use det_errors::{DetErrors, detection_errors};
pub use end_to_end::{EndToEndOptions, EndToEndReport, LineMatch, Pages, end_to_end, match_lines};
pub use hungarian::linear_sum_assignment;
pub use rec::{RecOptions, RecReport, recognition};
