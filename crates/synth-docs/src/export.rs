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
//! interrupted run never leaves labels pointing at missing images. A folder written by
//! [`Synthesis::write`] also holds `synthesis.json` ([`SynthesisRecord`]): the settings
//! and the fonts it was rendered with.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{GrayImage, ImageFormat};
use serde::{Deserialize, Serialize};
use whet_core::data::paddle::{DetBox, DetSample, RecSample, det_line, rec_line};
use whet_core::data::{atomic_write, write_jsonl};
use whet_core::geom::{Polygon, TextRegion};

use crate::augment::{AugmentConfig, augment};
use crate::document::Document;
use crate::error::{Error, Result};
use crate::generate::GeneratorConfig;
use crate::plan::{DocFeature, PlannedGenerator, SynthesisPlan};
use crate::render::FontSet;
use crate::render::{Page, Region, TextLine, Word};
use crate::sheet::Layout;

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
                polygon: Polygon::new(
                    l.polygon
                        .points
                        .iter()
                        .map(|p| [p[0].round(), p[1].round()])
                        .collect(),
                ),
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

/// A dataset to render: `n` documents planned by `plan` from `config` with `seed`.
///
/// Templates are taken in turn (or only `layout`), each round of templates in the next
/// installed font; the plan's small type is honoured, and its augmentations (rotation,
/// perspective, fade, noise, blur, JPEG) applied unless `augment` is off. The same
/// settings write the same bytes with the same fonts installed: the fonts are part of
/// the dataset, recorded in its `synthesis.json` ([`SynthesisRecord`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Synthesis {
    /// Documents.
    pub n: u64,
    /// Seed of the documents (and of their augmentations).
    pub seed: u64,
    /// What documents.
    pub config: GeneratorConfig,
    /// What to make more of.
    pub plan: SynthesisPlan,
    /// Only this template of `Layout::catalogue()`; all in turn when `None`.
    pub layout: Option<usize>,
    /// Apply the augmentations the plan asks for.
    pub augment: bool,
}

impl Synthesis {
    /// `n` documents of `config` with `seed`, the default plan, every template,
    /// augmentations applied as planned.
    pub fn new(n: u64, seed: u64, config: GeneratorConfig) -> Self {
        Synthesis {
            n,
            seed,
            config,
            plan: SynthesisPlan::default(),
            layout: None,
            augment: true,
        }
    }

    /// Renders the dataset into `dir` (manifest, ground truth, PaddleOCR labels, crops),
    /// calling `on_document` after each document; returns the manifest.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid config or template, [`Error::Font`] without a
    /// usable font, [`Error::Image`] / [`Error::Core`] when a file cannot be written.
    pub fn write(
        &self,
        dir: impl AsRef<Path>,
        mut on_document: impl FnMut(u64),
    ) -> Result<Vec<ManifestRecord>> {
        use rand::SeedableRng;
        let generator = PlannedGenerator::new(self.seed, self.config.clone(), self.plan.clone())?;
        let catalogue = Layout::catalogue();
        if let Some(k) = self.layout.filter(|&k| k >= catalogue.len()) {
            return Err(Error::Config {
                field: "layout",
                reason: format!("must be 0 to {}, not {k}", catalogue.len() - 1),
            });
        }
        let fonts = FontSet::system()?;
        let mut writer = DatasetWriter::create(dir.as_ref())?;
        let record = SynthesisRecord {
            synthesis: self.clone(),
            fonts: fonts.paths(),
        };
        let json = serde_json::to_vec_pretty(&record).expect("a synthesis serialises");
        atomic_write(dir.as_ref().join(SynthesisRecord::FILE), &json)?;
        for i in 0..self.n {
            let sample = generator.sample(i);
            let template = self.layout.unwrap_or(i as usize % catalogue.len());
            let font = (i as usize / catalogue.len()) % fonts.len();
            let mut layout = catalogue[template].with_font(font);
            if let Layout::Receipt(r) = &mut layout {
                // The plan's small type, and the large type of its dot-matrix printers.
                if sample.layout.font_px < 16.0 || sample.layout.style.dot_matrix > 0 {
                    r.font_px = sample.layout.font_px;
                    r.width = r.width.max(sample.layout.width);
                }
                r.style = sample.layout.style; // the plan's printer
            }
            let mut page = layout.render(&sample.document, &fonts)?;
            if self.augment && sample.augment != AugmentConfig::default() {
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(self.seed ^ i.rotate_left(17));
                page = augment(&page, &sample.augment, &mut rng)?;
            }
            writer.add_with_features(
                &format!("{i:06}"),
                &sample.document,
                &page,
                &sample.features,
            )?;
            on_document(i);
        }
        let manifest = writer.manifest.clone();
        writer.finish()?;
        Ok(manifest)
    }
}

/// [`Synthesis::write`] of `n` documents planned by `plan` from `config` with `seed`
/// (every template, planned augmentations applied), without progress reports.
///
/// ```no_run
/// use whet_synth_docs::{GeneratorConfig, SynthesisPlan, synthesise};
/// let manifest = synthesise("data/receipts", 200, 11, GeneratorConfig::default(), SynthesisPlan::default())?;
/// assert_eq!(manifest.len(), 200);
/// # Ok::<(), whet_synth_docs::Error>(())
/// ```
///
/// # Errors
/// As [`Synthesis::write`].
pub fn synthesise(
    dir: impl AsRef<Path>,
    n: u64,
    seed: u64,
    config: GeneratorConfig,
    plan: SynthesisPlan,
) -> Result<Vec<ManifestRecord>> {
    Synthesis {
        plan,
        ..Synthesis::new(n, seed, config)
    }
    .write(dir, |_| {})
}

/// [`synthesise`] unless `dir` already holds a finished dataset (its `manifest.jsonl`,
/// written last) made with the same settings and fonts, then the ground-truth lines of
/// its pages ([`read_line_regions`]): a dataset made once and read by every later run.
///
/// ```no_run
/// use whet_synth_docs::{GeneratorConfig, SynthesisPlan, synthesise_once};
/// let config = GeneratorConfig::philippine_receipts();
/// let pages = synthesise_once("data/receipts", 200, 11, config, SynthesisPlan::default())?;
/// assert_eq!(pages.len(), 200);
/// # Ok::<(), whet_synth_docs::Error>(())
/// ```
///
/// # Errors
/// As [`synthesise`] and [`read_line_regions`]; [`Error::Stale`] when `dir` holds a
/// dataset made with other settings, or with other fonts than this machine has (it is
/// left alone: remove it, or write to another folder). A dataset without
/// `synthesis.json` (written before it was recorded) is read as it is.
pub fn synthesise_once(
    dir: impl AsRef<Path>,
    n: u64,
    seed: u64,
    config: GeneratorConfig,
    plan: SynthesisPlan,
) -> Result<BTreeMap<String, Vec<TextRegion>>> {
    let dir = dir.as_ref();
    let wanted = SynthesisRecord {
        synthesis: Synthesis {
            plan,
            ..Synthesis::new(n, seed, config)
        },
        fonts: FontSet::system()?.paths(),
    };
    if !dir.join("manifest.jsonl").exists() {
        wanted.synthesis.write(dir, |_| {})?;
    } else if let Some(found) = SynthesisRecord::read(dir)?
        && let Some(reason) = found.differs_from(&wanted)
    {
        return Err(Error::Stale {
            dir: dir.to_owned(),
            reason,
        });
    }
    read_line_regions(dir)
}

/// What a dataset folder was made from, its `synthesis.json`: the settings and the fonts
/// (the same settings render other pages where other fonts are installed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynthesisRecord {
    /// The settings.
    pub synthesis: Synthesis,
    /// The font files, in the order documents cycle through them.
    pub fonts: Vec<PathBuf>,
}

impl SynthesisRecord {
    /// Its file name in a dataset folder.
    pub const FILE: &str = "synthesis.json";

    /// The record of the dataset in `dir`; `None` when it has none.
    ///
    /// # Errors
    /// [`Error::Core`] when it cannot be read or is not a record.
    pub fn read(dir: impl AsRef<Path>) -> Result<Option<Self>> {
        let path = dir.as_ref().join(Self::FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(whet_core::Error::file(&path, e).into()),
        };
        let record = serde_json::from_slice(&bytes).map_err(|e| whet_core::Error::Format {
            path: path.clone(),
            line: e.line(),
            reason: e.to_string(),
        })?;
        Ok(Some(record))
    }

    /// What differs between the two, in words; `None` when they make the same dataset.
    pub fn differs_from(&self, other: &SynthesisRecord) -> Option<String> {
        let (a, b) = (&self.synthesis, &other.synthesis);
        let fields = [
            ("n", a.n != b.n),
            ("seed", a.seed != b.seed),
            ("config", a.config != b.config),
            ("plan", a.plan != b.plan),
            ("layout", a.layout != b.layout),
            ("augment", a.augment != b.augment),
        ];
        let changed: Vec<&str> = fields.iter().filter(|f| f.1).map(|f| f.0).collect();
        if !changed.is_empty() {
            return Some(format!("made with another {}", changed.join(", ")));
        }
        (self.fonts != other.fonts).then(|| {
            format!(
                "rendered with the fonts {:?}, this machine has {:?}",
                self.fonts, other.fonts
            )
        })
    }
}

/// The manifest of a dataset folder (`manifest.jsonl`).
///
/// # Errors
/// [`Error::Core`] when it is missing or a record is malformed (file and line named).
pub fn read_manifest(dir: impl AsRef<Path>) -> Result<Vec<ManifestRecord>> {
    let read = whet_core::data::read_jsonl::<ManifestRecord>(
        dir.as_ref().join("manifest.jsonl"),
        whet_core::data::MalformedPolicy::Fail,
    )?;
    Ok(read.records.into_iter().map(|(_, r)| r).collect())
}

/// Every page's ground-truth lines as [`TextRegion`]s, keyed by image path relative to the
/// dataset folder: what OCR predictions are scored against
/// (`whet_eval_metrics::ocr::end_to_end`).
///
/// # Errors
/// As [`read_manifest`]; [`Error::Core`] for a ground-truth file that is missing or not
/// ground truth.
pub fn read_line_regions(dir: impl AsRef<Path>) -> Result<BTreeMap<String, Vec<TextRegion>>> {
    let dir = dir.as_ref();
    let mut out = BTreeMap::new();
    for record in read_manifest(dir)? {
        let path = dir.join(&record.ground_truth);
        let bytes = std::fs::read(&path).map_err(|e| whet_core::Error::file(&path, e))?;
        let gt: GroundTruth =
            serde_json::from_slice(&bytes).map_err(|e| whet_core::Error::Format {
                path: path.clone(),
                line: e.line(),
                reason: format!("not ground truth: {e}"),
            })?;
        let lines = gt
            .lines
            .into_iter()
            .map(|l| TextRegion::new(l.polygon, l.text))
            .collect();
        out.insert(record.image, lines);
    }
    Ok(out)
}
