//! # whet-ocr-det
//!
//! PaddleOCR-style OCR in burn: DBNet text detection and SVTR CTC text recognition as
//! ordinary trainable burn modules, PP-OCRv4's (PPLCNetV3 backbone) and PP-OCRv6 small's
//! (HGNetV2 stem and RepViT-style blocks, [`det::Backbone`]), loaded from the real PP-OCR
//! weights, with PaddleOCR's pre- and
//! post-processing and fine-tuning on your own documents through the whet-core Trainer.
//!
//! **Status.** Inference done: the detector ([`DbNet`]) and recognizer
//! ([`SvtrRecognizer`]) as burn modules that reproduce onnxruntime on PP-OCRv4's files
//! (read by a private ONNX reader), the whole pipeline ([`Ocr`]) matching rapidocr 1.4.4
//! on 99.1% of lines, OpenCV's geometry reproduced bit for bit ([`min_area_rect`]).
//! Fine-tuning done as library calls ([`finetune`]: [`finetune::RecFinetune`],
//! [`finetune::DetFinetune`], [`finetune::evaluate`]) on the building blocks of
//! [`train`]; the recognizer recipe lifts held-out synthetic receipts from 0.813 to 0.995
//! line accuracy (real SROIE receipts: 0.816 -> 0.826 in the latest run, crate README);
//! the detector recipe trains with dice as PaddleOCR does. PP-OCRv6 small matches
//! rapidocr 3.10 on 98.8% of lines. `scripts/assets.sh` fetches the weights from the
//! `rapidocr-onnxruntime==1.4.4` and `rapidocr==3.10.0` wheels and verifies their
//! checksums.
//!
//! ```no_run
//! use burn::tensor::Device;
//! use whet_ocr_det::Ocr;
//!
//! let ocr = Ocr::from_pretrained("assets/rapidocr-1.4.4", &Device::flex())?;
//! let img = image::open("receipt.jpg").expect("an image").to_rgb8();
//! for line in ocr.read(&img)? {
//!     println!("{:?} {} ({:.2})", line.polygon.points, line.text, line.confidence);
//! }
//! assert_eq!(ocr.dict.len(), 6625); // blank + 6,623 characters + space
//! # Ok::<(), whet_ocr_det::Error>(())
//! ```
//!
//! ## The API
//!
//! | what you do | with |
//! |---|---|
//! | read documents | [`Ocr`]: [`Ocr::from_pretrained`], [`Ocr::read`], [`TextLine`] |
//! | fine-tune on your documents | [`finetune`]: [`finetune::RecFinetune`], [`finetune::DetFinetune`], [`finetune::evaluate`] |
//! | save and serve a fine-tuned pipeline | [`Ocr::save`], [`Ocr::load`] (no ONNX file needed: [`arch`] builds the networks from `config.json`) |
//! | grow the character set | [`CharDict::grow`], [`look_alike`], [`SvtrRecognizer::with_dict`] |
//! | write your own training loop | [`train`]: batches, losses, steps, augmentation |
//! | reuse the layers or the exact OpenCV/rapidocr geometry | [`det`], [`rec`], [`postprocess`], [`min_area_rect`], [`image_ops`] |

pub mod arch;
mod conv;
mod ctc;
pub mod det;
mod dict;
mod error;
pub mod finetune;
mod graph;
pub mod image_ops;
pub mod min_area_rect;
mod ocr;
mod onnx;
#[cfg(test)]
mod onnx_tests;
pub mod postprocess;
pub mod rec;
pub mod train;
mod weights;

pub use ctc::{Decoded, greedy_decode};
pub use det::DbNet;
pub use dict::{CharDict, look_alike};
pub use error::{Error, Result};
pub use ocr::{
    DET_FILE, LimitType, Ocr, OcrConfig, REC_FILE, TextLine, V6_DET_FILE, V6_REC_FILE, model_files,
    recognize_lines,
};
pub use rec::SvtrRecognizer;
