//! The whole pipeline, as rapidocr 1.4.4 runs PP-OCRv4 (without its optional
//! text-direction classifier): detection resize and normalisation, the detector, DB
//! post-processing, rectified crops, recognition in aspect-sorted batches, greedy CTC
//! decoding, and the text-score filter.

use std::path::Path;

use burn::tensor::{Device, Tensor, TensorData};
use image::RgbImage;
use serde::{Deserialize, Serialize};
use whet_core::geom::Polygon;

use crate::arch::{DbNetConfig, SvtrRecognizerConfig};

use crate::ctc::greedy_decode;
use crate::det::DbNet;
use crate::dict::CharDict;
use crate::error::Result;
use crate::image_ops::{perspective_transform, resize_bilinear, warp_perspective_cubic};
use crate::postprocess::{DbPostConfig, Quad, db_boxes};
use crate::rec::SvtrRecognizer;

/// File names of the PP-OCRv4 models in a weights folder (`scripts/assets.sh` fetches
/// them into `assets/rapidocr-1.4.4`).
pub const DET_FILE: &str = "ch_PP-OCRv4_det_infer.onnx";
/// The recognizer's file (its dictionary is in its metadata).
pub const REC_FILE: &str = "ch_PP-OCRv4_rec_infer.onnx";
/// File names of the PP-OCRv6 small models (`scripts/assets.sh` fetches them from
/// `rapidocr==3.10.0` into `assets/rapidocr-3.10.0`).
pub const V6_DET_FILE: &str = "PP-OCRv6_det_small.onnx";
/// PP-OCRv6's recognizer (its 18,708-character dictionary in its metadata).
pub const V6_REC_FILE: &str = "PP-OCRv6_rec_small.onnx";

/// The detector and recognizer files of a weights folder: PP-OCRv6's when it holds them,
/// else PP-OCRv4's.
pub fn model_files(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    if dir.join(V6_DET_FILE).exists() || dir.join(V6_REC_FILE).exists() {
        (dir.join(V6_DET_FILE), dir.join(V6_REC_FILE))
    } else {
        (dir.join(DET_FILE), dir.join(REC_FILE))
    }
}

/// How the detector's input size is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LimitType {
    /// Scale up so the shorter side is at least the limit (rapidocr 1.4.4's default).
    Min,
    /// Scale down so the longer side is at most the limit (PaddleOCR's default, 960).
    Max,
}

/// Pipeline settings; the defaults are rapidocr 1.4.4's `config.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OcrConfig {
    /// Images with a longer side are first scaled down to it.
    pub max_side_len: u32,
    /// Detection size limit (see [`LimitType`]).
    pub det_limit_side_len: u32,
    /// Detection size rule.
    pub det_limit_type: LimitType,
    /// DB post-processing.
    pub db: DbPostConfig,
    /// Recognizer input height.
    pub rec_height: u32,
    /// Narrowest recognizer batch width.
    pub rec_width: u32,
    /// Lines per recognizer batch.
    pub rec_batch: usize,
    /// Lines recognised with a lower confidence are dropped.
    pub text_score: f32,
}

impl Default for OcrConfig {
    fn default() -> Self {
        OcrConfig {
            max_side_len: 2000,
            det_limit_side_len: 736,
            det_limit_type: LimitType::Min,
            db: DbPostConfig::default(),
            rec_height: 48,
            rec_width: 320,
            rec_batch: 6,
            text_score: 0.5,
        }
    }
}

/// File name of a saved pipeline's settings and architectures ([`Ocr::save`]).
pub const CONFIG_FILE: &str = "config.json";
/// The format name in a saved pipeline's `config.json`.
pub const OCR_FORMAT: &str = "whetstone-ppocr";
/// Its version; another is refused.
pub const OCR_VERSION: u32 = 1;

/// What `config.json` holds.
#[derive(Serialize, Deserialize)]
struct OcrFile {
    format: String,
    version: u32,
    pipeline: OcrConfig,
    det: DbNetConfig,
    rec: SvtrRecognizerConfig,
}

/// One line of text found in an image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextLine {
    /// Where: four points, clockwise from the top-left, in the image's pixels.
    pub polygon: Polygon,
    /// What it says.
    pub text: String,
    /// The recognizer's confidence (mean probability of the kept CTC steps).
    pub confidence: f32,
}

/// PP-OCRv4 detection and recognition.
#[derive(Debug, Clone)]
pub struct Ocr {
    /// The detector.
    pub det: DbNet,
    /// The recognizer.
    pub rec: SvtrRecognizer,
    /// The recognizer's classes.
    pub dict: CharDict,
    /// Settings.
    pub config: OcrConfig,
    device: Device,
}

/// Recognises text-line images with `rec` as rapidocr does: sorted by aspect ratio, in
/// batches of `batch` resized to `height` and padded to the batch's widest (at least
/// `min_width`), greedy CTC. `(text, confidence)` each, in the given order.
///
/// # Errors
/// [`crate::Error::Readback`] when the probabilities cannot be read from the device.
pub fn recognize_lines(
    rec: &SvtrRecognizer,
    dict: &CharDict,
    lines: &[RgbImage],
    height: u32,
    min_width: u32,
    batch: usize,
    device: &Device,
) -> Result<Vec<(String, f32)>> {
    let ratio = |i: &RgbImage| f64::from(i.width()) / f64::from(i.height());
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by(|&a, &b| ratio(&lines[a]).total_cmp(&ratio(&lines[b])));
    let mut out = vec![(String::new(), 0.0); lines.len()];
    let hh = height;
    for chunk in order.chunks(batch.max(1)) {
        let max_ratio = chunk
            .iter()
            .map(|&i| ratio(&lines[i]))
            .fold(f64::from(min_width) / f64::from(hh), f64::max);
        let width = (f64::from(hh) * max_ratio) as usize;
        let mut x = Vec::with_capacity(chunk.len() * 3 * hh as usize * width);
        for &i in chunk {
            let need = (f64::from(hh) * ratio(&lines[i])).ceil() as usize;
            let rw = need.min(width).max(1) as u32;
            x.extend(to_input(&resize_bilinear(&lines[i], rw, hh), width));
        }
        let input = Tensor::<4>::from_data(
            TensorData::new(x, [chunk.len(), 3, hh as usize, width]),
            device,
        );
        let prob = rec.forward(input);
        let [_, steps, classes] = prob.dims();
        let values = prob
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| crate::Error::readback("the recognizer's probabilities", e))?;
        for (k, &i) in chunk.iter().enumerate() {
            let d = greedy_decode(
                &values[k * steps * classes..(k + 1) * steps * classes],
                dict,
            );
            out[i] = (d.text, d.confidence);
        }
    }
    Ok(out)
}

/// `[1, 3, h, w]` input from an RGB image: BGR planes (rapidocr feeds OpenCV images),
/// `(p * (1 / 255) - 0.5) / 0.5` as rapidocr computes it, padded with zeros to `width`.
pub(crate) fn to_input(img: &RgbImage, width: usize) -> Vec<f32> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut x = vec![0f32; 3 * h * width];
    for (i, p) in img.pixels().enumerate() {
        let (row, col) = (i / w, i % w);
        for (c, &v) in p.0.iter().rev().enumerate() {
            let scaled = f64::from(f32::from(v) * (1.0f32 / 255.0));
            x[c * h * width + row * width + col] = ((scaled - 0.5) / 0.5) as f32;
        }
    }
    x
}

/// `int(round(int(v * ratio) / 32) * 32)` as rapidocr sizes images (Python's `round`:
/// halves to even), at least 32.
fn snap32(v: u32, ratio: f64) -> u32 {
    let scaled = (f64::from(v) * ratio) as i64;
    (((scaled as f64 / 32.0).round_ties_even() * 32.0) as u32).max(32)
}

impl Ocr {
    /// Loads the detector and recognizer from a weights folder: PP-OCRv6's
    /// ([`V6_DET_FILE`], [`V6_REC_FILE`]: `assets/rapidocr-3.10.0`) or PP-OCRv4's
    /// ([`DET_FILE`], [`REC_FILE`]: `assets/rapidocr-1.4.4`), as [`model_files`] finds them.
    ///
    /// # Errors
    /// [`crate::Error::Core`] for a missing or unreadable file, [`crate::Error::Weights`]
    /// for a corrupt one or another architecture.
    pub fn from_pretrained(dir: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let dir = dir.as_ref();
        let (det_file, rec_file) = model_files(dir);
        let det = DbNet::from_onnx(det_file, device)?;
        let (rec, dict) = SvtrRecognizer::from_onnx(rec_file, device)?;
        Ok(Ocr {
            det,
            rec,
            dict,
            config: OcrConfig::default(),
            device: device.clone(),
        })
    }

    /// The detector's input size for an image (rapidocr's `DetPreProcess.resize`).
    pub fn det_size(&self, w: u32, h: u32) -> (u32, u32) {
        let lim = f64::from(self.config.det_limit_side_len);
        let (w, h) = (f64::from(w), f64::from(h));
        let ratio = match self.config.det_limit_type {
            LimitType::Max if w.max(h) > lim => lim / w.max(h),
            LimitType::Min if w.min(h) < lim => lim / w.min(h),
            _ => 1.0,
        };
        (snap32(w as u32, ratio), snap32(h as u32, ratio))
    }

    /// The text probability map of an image at the detector's input size:
    /// `(values, width, height)`.
    ///
    /// # Errors
    /// [`crate::Error::Readback`] when the map cannot be read from the device.
    pub fn probability_map(&self, img: &RgbImage) -> Result<(Vec<f32>, usize, usize)> {
        let (w, h) = self.det_size(img.width(), img.height());
        let resized = resize_bilinear(img, w, h);
        let (w, h) = (w as usize, h as usize);
        let x = Tensor::<4>::from_data(
            TensorData::new(to_input(&resized, w), [1, 3, h, w]),
            &self.device,
        );
        let prob = self.det.forward(x);
        let values = prob
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| crate::Error::readback("the detector's probability map", e))?;
        Ok((values, w, h))
    }

    /// Text boxes with their detection scores, in reading order.
    ///
    /// # Errors
    /// As [`Ocr::probability_map`].
    pub fn detect(&self, img: &RgbImage) -> Result<Vec<(Quad, f32)>> {
        let (prob, w, h) = self.probability_map(img)?;
        Ok(db_boxes(
            &prob,
            w,
            h,
            img.width() as usize,
            img.height() as usize,
            &self.config.db,
        ))
    }

    /// rapidocr's `get_rotate_crop_image`: the quadrilateral warped upright (bicubic,
    /// replicated borders), turned a quarter anticlockwise when it is at least 1.5 times
    /// taller than wide.
    pub fn crop(img: &RgbImage, quad: &Quad) -> Option<RgbImage> {
        let d = |a: [f32; 2], b: [f32; 2]| {
            f64::from(((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt())
        };
        let w = d(quad[0], quad[1]).max(d(quad[2], quad[3])) as u32;
        let h = d(quad[0], quad[3]).max(d(quad[1], quad[2])) as u32;
        if w == 0 || h == 0 {
            return None;
        }
        let src = quad.map(|p| [f64::from(p[0]), f64::from(p[1])]);
        let (wf, hf) = (f64::from(w), f64::from(h));
        let m = perspective_transform(src, [[0.0, 0.0], [wf, 0.0], [wf, hf], [0.0, hf]])?;
        let out = warp_perspective_cubic(img, m, w, h)?;
        Some(if f64::from(h) / f64::from(w) >= 1.5 {
            image::imageops::rotate270(&out)
        } else {
            out
        })
    }

    /// A pipeline from its parts (fine-tuned models, say), running on `device`.
    pub fn new(
        det: DbNet,
        rec: SvtrRecognizer,
        dict: CharDict,
        config: OcrConfig,
        device: &Device,
    ) -> Self {
        Ocr {
            det,
            rec,
            dict,
            config,
            device: device.clone(),
        }
    }

    /// This pipeline with another detector (a fine-tuned one, say).
    pub fn with_detector(mut self, det: DbNet) -> Self {
        self.det = det;
        self
    }

    /// This pipeline with another recognizer and its dictionary (a fine-tuned one, say).
    pub fn with_recognizer(mut self, rec: SvtrRecognizer, dict: CharDict) -> Self {
        self.rec = rec;
        self.dict = dict;
        self
    }

    /// This pipeline with the fine-tuned parts saved in `dir` (by
    /// [`SvtrRecognizer::save`] and [`DbNet::save`], or a registry version), each loaded
    /// over the pretrained weights in `pretrained` (the [`Ocr::from_pretrained`] folder).
    /// A part `dir` does not hold stays as it is.
    ///
    /// # Errors
    /// As [`SvtrRecognizer::load`] and [`DbNet::load`].
    pub fn with_finetuned(
        mut self,
        pretrained: impl AsRef<Path>,
        dir: impl AsRef<Path>,
    ) -> Result<Self> {
        let (pretrained, dir) = (pretrained.as_ref(), dir.as_ref());
        if dir.join(crate::rec::FINETUNED_WEIGHTS).exists() {
            let (rec, dict) = SvtrRecognizer::load(model_files(pretrained).1, dir, &self.device)?;
            self = self.with_recognizer(rec, dict);
        }
        if dir.join(crate::det::FINETUNED_WEIGHTS).exists() {
            let det = DbNet::load(model_files(pretrained).0, dir, &self.device)?;
            self = self.with_detector(det);
        }
        Ok(self)
    }

    /// Saves the whole pipeline in `dir` (created if missing) as a self-contained
    /// artifact: `config.json` (the pipeline settings and both networks' architectures),
    /// `det.safetensors`, `rec.safetensors` and the dictionary `rec_dict.txt`
    /// (PaddleOCR's format), each written atomically. [`Ocr::load`] reads it back with
    /// nothing else, the original ONNX files included; a registry version made of this
    /// folder is servable as it is.
    ///
    /// # Errors
    /// [`crate::Error::Weights`] or [`crate::Error::Core`] when a file cannot be written.
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| whet_core::Error::file(dir, e))?;
        self.det.save(dir)?;
        self.rec.save(&self.dict, dir)?;
        let file = OcrFile {
            format: OCR_FORMAT.into(),
            version: OCR_VERSION,
            pipeline: self.config.clone(),
            det: DbNetConfig::of(&self.det),
            rec: SvtrRecognizerConfig::of(&self.rec),
        };
        let config = serde_json::to_vec_pretty(&file).map_err(|e| {
            crate::Error::weights(dir.join(CONFIG_FILE), format!("cannot encode: {e}"))
        })?;
        whet_core::data::atomic_write(dir.join(CONFIG_FILE), &config)?;
        Ok(())
    }

    /// Loads a pipeline saved by [`Ocr::save`] (a registry version, say): both networks
    /// built from `config.json` (`Config -> init`) and their weights from the safetensors
    /// files, the dictionary from `rec_dict.txt`.
    ///
    /// # Errors
    /// [`crate::Error::Core`] for a missing file; [`crate::Error::Weights`] for a
    /// `config.json` of another format or version, weights that do not fit it, or a
    /// dictionary that does not fit the recognizer's head.
    pub fn load(dir: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let dir = dir.as_ref();
        let path = dir.join(CONFIG_FILE);
        let bytes = std::fs::read(&path).map_err(|e| whet_core::Error::file(&path, e))?;
        let file: OcrFile = serde_json::from_slice(&bytes)
            .map_err(|e| crate::Error::weights(&path, format!("not a saved pipeline: {e}")))?;
        if file.format != OCR_FORMAT || file.version != OCR_VERSION {
            return Err(crate::Error::weights(
                &path,
                format!(
                    "{} version {}: this build reads {OCR_FORMAT} version {OCR_VERSION}",
                    file.format, file.version
                ),
            ));
        }
        let det = crate::weights::load(
            file.det.init(device),
            &dir.join(crate::det::FINETUNED_WEIGHTS),
        )?;
        let rec = crate::weights::load(
            file.rec.init(device),
            &dir.join(crate::rec::FINETUNED_WEIGHTS),
        )?;
        let dict_path = dir.join(crate::rec::FINETUNED_DICT);
        let text = std::fs::read_to_string(&dict_path)
            .map_err(|e| whet_core::Error::file(&dict_path, e))?;
        let lines: Vec<&str> = text.lines().collect();
        let dict = CharDict::from_lines(&lines);
        let [_, classes] = rec.head.weight.dims();
        if classes != dict.len() {
            return Err(crate::Error::weights(
                &dict_path,
                format!(
                    "{} classes with blank and space, but the recognizer has {classes}",
                    dict.len()
                ),
            ));
        }
        Ok(Ocr::new(det, rec, dict, file.pipeline, device))
    }

    /// The device the models run on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Recognises text-line images: `(text, confidence)` each, in the given order.
    ///
    /// # Errors
    /// As [`recognize_lines`].
    pub fn recognize(&self, lines: &[RgbImage]) -> Result<Vec<(String, f32)>> {
        recognize_lines(
            &self.rec,
            &self.dict,
            lines,
            self.config.rec_height,
            self.config.rec_width,
            self.config.rec_batch,
            &self.device,
        )
    }

    /// The text lines the detector finds, each with its polygon in `img`'s pixels and
    /// its crop as the recognizer is given it (`None` for a degenerate box), in reading
    /// order: [`Ocr::read`] without the recognizer. Training crops cut this way look
    /// like the ones the pipeline reads ([`RecItem::detected`](crate::train::RecItem::detected)).
    ///
    /// # Errors
    /// [`crate::Error::Readback`] when a result cannot be read from the device.
    pub fn detect_lines(&self, img: &RgbImage) -> Result<Vec<(Polygon, Option<RgbImage>)>> {
        // rapidocr first scales images whose longer side exceeds max_side_len
        // (`reduce_max_side`: both sides snapped to multiples of 32).
        let (w, h) = (img.width(), img.height());
        let longest = w.max(h);
        let (work, ratio) = if longest > self.config.max_side_len {
            let r = f64::from(self.config.max_side_len) / f64::from(longest);
            let (nw, nh) = (snap32(w, r), snap32(h, r));
            (
                resize_bilinear(img, nw, nh),
                (f64::from(w) / f64::from(nw), f64::from(h) / f64::from(nh)),
            )
        } else {
            (img.clone(), (1.0, 1.0))
        };
        Ok(self
            .detect(&work)?
            .iter()
            .map(|(q, _)| {
                let polygon = Polygon {
                    points: q
                        .iter()
                        .map(|p| {
                            // Scaled in f32 as rapidocr does, then widened.
                            [
                                f64::from((p[0] * ratio.0 as f32).clamp(0.0, w as f32)),
                                f64::from((p[1] * ratio.1 as f32).clamp(0.0, h as f32)),
                            ]
                        })
                        .collect(),
                };
                (polygon, Self::crop(&work, q))
            })
            .collect())
    }

    /// Finds and reads the text lines of an image.
    ///
    /// # Errors
    /// [`crate::Error::Readback`] when a result cannot be read from the device.
    pub fn read(&self, img: &RgbImage) -> Result<Vec<TextLine>> {
        let lines = self.detect_lines(img)?;
        let present: Vec<RgbImage> = lines.iter().filter_map(|(_, c)| c.clone()).collect();
        let mut texts = self.recognize(&present)?.into_iter();
        Ok(lines
            .into_iter()
            .filter_map(|(polygon, crop)| {
                // Only lines with a crop were recognised: take a text for those alone.
                let (text, confidence) = crop.and_then(|_| texts.next())?;
                (confidence >= self.config.text_score).then_some(TextLine {
                    polygon,
                    text,
                    confidence,
                })
            })
            .collect())
    }

    /// [`Ocr::read`] for several images.
    ///
    /// # Errors
    /// As [`Ocr::read`].
    pub fn read_batch(&self, imgs: &[RgbImage]) -> Result<Vec<Vec<TextLine>>> {
        imgs.iter().map(|i| self.read(i)).collect()
    }
}
