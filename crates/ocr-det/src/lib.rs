//! # whet-ocr-det
//!
//! PaddleOCR-style OCR in burn: PP-OCRv4 DBNet text detection (PPLCNetV3 backbone,
//! RSE-FPN neck, DB head) and SVTR-LCNet CTC text recognition as ordinary trainable burn
//! modules, loaded from the real PP-OCR weights, with PaddleOCR's pre- and
//! post-processing and fine-tuning on your own documents through the whet-core Trainer.
//!
//! **Status: in progress.** So far: reading the real PP-OCR ONNX files ([`OnnxModel`]:
//! nodes, attributes, stored tensors, metadata, with typed errors for corrupt files) and
//! the recognizer's character dictionary ([`CharDict`]). `scripts/assets.sh` fetches the
//! weights from the `rapidocr-onnxruntime==1.4.4` wheel and verifies their checksums.
//!
//! ```no_run
//! use whet_ocr_det::{CharDict, OnnxModel};
//!
//! let rec = OnnxModel::open("assets/rapidocr-1.4.4/ch_PP-OCRv4_rec_infer.onnx")?;
//! let dict = CharDict::from_onnx(&rec)?;
//! assert_eq!(dict.len(), 6625); // blank + 6,623 characters + space
//! # Ok::<(), whet_ocr_det::Error>(())
//! ```

mod ctc;
pub mod det;
mod dict;
mod error;
mod graph;
pub mod image_ops;
mod ocr;
mod onnx;
pub mod postprocess;
pub mod rec;

pub use ctc::{Decoded, greedy_decode};
pub use det::DbNet;
pub use dict::CharDict;
pub use error::{Error, Result};
pub use ocr::{DET_FILE, LimitType, Ocr, OcrConfig, REC_FILE, TextLine};
pub use onnx::{Attribute, OnnxModel, OnnxNode, OnnxTensor, TensorData};
pub use rec::SvtrRecognizer;
