//! Writing rendered documents as a dataset folder: images, per-sample ground truth, a JSONL
//! manifest, PaddleOCR detection and recognition labels, and SROIE-style key files.
//!
//! ```text
//! out/
//!   manifest.jsonl          one record per sample (relative paths, key fields)
//!   images/000000.png       the rendered pages
//!   gt/000000.json          words, lines, regions, table HTML, fields
//!   key/000000.json         SROIE-style keys (company, date, address, total)
//!   det_gt.txt              PaddleOCR detection labels: image \t [{"transcription", "points"}]
//!   rec/000000_003.png      one crop per text line
//!   rec_gt.txt              PaddleOCR recognition labels: crop \t text
//! ```
//!
//! Every file is written atomically; the label files and the manifest last, so an
//! interrupted run never leaves labels pointing at missing images.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{GrayImage, ImageFormat};
use serde::{Deserialize, Serialize};
use whet_core::data::{atomic_write, write_jsonl};

use crate::document::Document;
use crate::error::{Error, Result};
use crate::paddle::{DetBox, DetSample, RecSample, det_line, rec_line};
use crate::plan::DocFeature;
use crate::render::{Page, Region, TextLine, Word};

/// One sample of the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestRecord {
    /// Sample id (`000000`).
    pub id: String,
    /// The image, relative to the dataset folder.
    pub image: String,
    /// The full ground truth, relative to the dataset folder.
    pub ground_truth: String,
    /// Image width and height in pixels.
    pub size: [u32; 2],
    /// The document's key fields.
    pub fields: serde_json::Value,
    /// The features a synthesis plan gave it (empty when none was asked for).
    #[serde(default)]
    pub features: Vec<DocFeature>,
}

/// Everything known about one rendered sample (`gt/<id>.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    /// The document, every number included.
    pub document: Document,
    /// Every word.
    pub words: Vec<Word>,
    /// Every line.
    pub lines: Vec<TextLine>,
    /// Named regions.
    pub regions: Vec<Region>,
    /// The items table as HTML.
    pub table_html: String,
}

fn png_bytes(image: &GrayImage, path: &Path) -> Result<Vec<u8>> {
    let mut bytes = Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, ImageFormat::Png)
        .map_err(|e| Error::Image {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    Ok(bytes.into_inner())
}

/// Writes a dataset folder sample by sample; [`DatasetWriter::finish`] writes the label
/// files and the manifest.
#[derive(Debug)]
pub struct DatasetWriter {
    root: PathBuf,
    manifest: Vec<ManifestRecord>,
    det: Vec<String>,
    rec: Vec<String>,
}

impl DatasetWriter {
    /// Creates `root` and its sub-folders.
    ///
    /// # Errors
    /// [`Error::Core`] (a file error naming the folder).
    pub fn create(root: impl AsRef<Path>) -> Result<Self> {
        let root = root.as_ref().to_owned();
        for sub in ["images", "gt", "key", "rec"] {
            let dir = root.join(sub);
            std::fs::create_dir_all(&dir).map_err(|e| whet_core::Error::file(&dir, e))?;
        }
        Ok(DatasetWriter {
            root,
            manifest: Vec::new(),
            det: Vec::new(),
            rec: Vec::new(),
        })
    }

    /// Adds one rendered document under `id`.
    ///
    /// # Errors
    /// [`Error::Image`] / [`Error::Core`] when a file cannot be written.
    pub fn add(&mut self, id: &str, doc: &Document, page: &Page) -> Result<()> {
        self.add_with_features(id, doc, page, &[])
    }

    /// Adds one rendered document with the features it was planned with (recorded in the
    /// manifest, so failures can be traced back to them).
    ///
    /// # Errors
    /// As [`DatasetWriter::add`].
    pub fn add_with_features(
        &mut self,
        id: &str,
        doc: &Document,
        page: &Page,
        features: &[DocFeature],
    ) -> Result<()> {
        let image_rel = format!("images/{id}.png");
        let image_path = self.root.join(&image_rel);
        atomic_write(&image_path, &png_bytes(&page.image, &image_path)?)?;

        let gt_rel = format!("gt/{id}.json");
        let gt = GroundTruth {
            document: doc.clone(),
            words: page.words.clone(),
            lines: page.lines.clone(),
            regions: page.regions.clone(),
            table_html: page.table_html.clone(),
        };
        let gt_bytes = serde_json::to_vec(&gt).map_err(|e| whet_core::Error::JsonlEncode {
            path: self.root.join(&gt_rel),
            index: self.manifest.len(),
            source: e,
        })?;
        atomic_write(self.root.join(&gt_rel), &gt_bytes)?;
        atomic_write(
            self.root.join(format!("key/{id}.json")),
            serde_json::to_string_pretty(&doc.sroie_json())
                .unwrap_or_default()
                .as_bytes(),
        )?;

        let boxes = page
            .lines
            .iter()
            .map(|l| DetBox {
                transcription: l.text.clone(),
                points: l
                    .polygon
                    .points
                    .iter()
                    .map(|p| [f64::from(p[0]).round(), f64::from(p[1]).round()])
                    .collect(),
                difficult: false,
            })
            .collect();
        self.det.push(det_line(&DetSample {
            image: PathBuf::from(&image_rel),
            boxes,
        }));

        for (k, line) in page.lines.iter().enumerate() {
            let [x0, y0, x1, y1] = line.polygon.bounds();
            let pad = 2.0;
            let (x0, y0) = ((x0 - pad).max(0.0) as u32, (y0 - pad).max(0.0) as u32);
            let x1 = ((x1 + pad).ceil() as u32).min(page.image.width());
            let y1 = ((y1 + pad).ceil() as u32).min(page.image.height());
            if x1 <= x0 || y1 <= y0 {
                continue;
            }
            let crop = image::imageops::crop_imm(&page.image, x0, y0, x1 - x0, y1 - y0).to_image();
            let crop_rel = format!("rec/{id}_{k:03}.png");
            let crop_path = self.root.join(&crop_rel);
            atomic_write(&crop_path, &png_bytes(&crop, &crop_path)?)?;
            self.rec.push(rec_line(&RecSample {
                image: PathBuf::from(crop_rel),
                text: line.text.clone(),
            }));
        }

        self.manifest.push(ManifestRecord {
            id: id.to_owned(),
            image: image_rel,
            ground_truth: gt_rel,
            size: [page.image.width(), page.image.height()],
            fields: doc.fields_json(),
            features: features.to_vec(),
        });
        Ok(())
    }

    /// Writes `det_gt.txt`, `rec_gt.txt` and `manifest.jsonl`; returns the number of
    /// samples.
    ///
    /// # Errors
    /// [`Error::Core`] when a file cannot be written.
    pub fn finish(self) -> Result<usize> {
        let lines = |v: &[String]| v.iter().map(|l| format!("{l}\n")).collect::<String>();
        atomic_write(self.root.join("det_gt.txt"), lines(&self.det).as_bytes())?;
        atomic_write(self.root.join("rec_gt.txt"), lines(&self.rec).as_bytes())?;
        write_jsonl(self.root.join("manifest.jsonl"), &self.manifest)?;
        Ok(self.manifest.len())
    }
}
