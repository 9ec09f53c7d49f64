//! Fine-tuning recipes: a few lines from labelled data to a better model, measured.
//!
//! - [`RecFinetune`]: the recognizer, from PaddleOCR recognition labels (what
//!   `whet-synth-docs` exports, or your own crops); the dictionary grows with the
//!   characters the data has and PP-OCRv4 lacks ([`CharDict::grow`](crate::CharDict::grow)),
//!   part of the network trains ([`RecTrainPart`]), distillation from the pretrained
//!   recognizer keeps what it knew ([`DistillConfig`]), and the best validated weights
//!   come back with their evaluation before and after.
//! - [`DetFinetune`]: the detector, from PaddleOCR detection labels (synthetic and real
//!   pages), DB loss on augmented crops, kept only when it beats the pretrained detector
//!   on the validation pages.
//! - [`evaluate`], [`EvalSet`]: end-to-end scores of a pipeline on labelled pages.
//!
//! Both recipes train through the whet-core `Trainer`: the run folder you hand them is
//! an MLflow run; killed, the same call with [`RunDir::resume_or_create`]'s run resumes
//! bit-exactly.
//!
//! ```no_run
//! use whet_core::run::RunDir;
//! use whet_ocr_det::Ocr;
//! use whet_ocr_det::finetune::{RecData, RecFinetune, RecFinetuneConfig};
//!
//! let device = whet_core::DeviceSpec::from_env()?.device()?;
//! let ocr = Ocr::from_pretrained("assets/rapidocr-1.4.4", &device)?;
//! let data = RecData::from_labels("data/receipts/rec_gt.txt", 10)?;
//! let run = RunDir::resume_or_create("mlruns", "receipts", "recognizer")?;
//! let tuned = RecFinetune::new(RecFinetuneConfig::new(300, 5e-4)).run(&ocr, &data, run)?;
//! println!("line accuracy {:.3} -> {:.3}", tuned.pretrained.acc, tuned.tuned.acc);
//! let ocr = ocr.with_recognizer(tuned.recognizer, tuned.dict);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`RunDir::resume_or_create`]: whet_core::run::RunDir::resume_or_create

mod det;
mod rec;

use std::path::{Path, PathBuf};

pub use det::{DetData, DetFinetune, DetFinetuneConfig, DetFinetuned};
pub use rec::{DistillConfig, RecData, RecFinetune, RecFinetuneConfig, RecFinetuned, RecTrainPart};
use whet_eval_metrics::ocr::{EndToEndOptions, EndToEndReport, Pages, end_to_end};

use crate::error::Result;
use crate::ocr::Ocr;

type OnStep<'a> =
    Box<dyn FnMut(&whet_core::train::StepReport<'_>) -> whet_core::train::Control + 'a>;

/// What a recipe hands its Trainer besides the config: a step callback and whether to
/// draw the progress bar.
pub(crate) struct Hooks<'a> {
    pub(crate) on_step: Option<OnStep<'a>>,
    pub(crate) progress: bool,
}

impl Default for Hooks<'_> {
    fn default() -> Self {
        Hooks {
            on_step: None,
            progress: true,
        }
    }
}

impl<'a> Hooks<'a> {
    /// The Trainer of a recipe: `config` on `device` into `run`, the recipe's own settings
    /// `recipe` saved beside every checkpoint.
    pub(crate) fn trainer(
        self,
        config: whet_core::train::TrainConfig,
        device: &burn::tensor::Device,
        run: whet_core::run::RunDir,
        recipe: &impl serde::Serialize,
    ) -> Result<whet_core::train::Trainer<'a>> {
        let mut trainer = whet_core::train::Trainer::new(config, device, run)?
            .with_user_config(recipe)?
            .with_progress(self.progress);
        if let Some(f) = self.on_step {
            trainer = trainer.on_step(f);
        }
        Ok(trainer)
    }
}

/// Reads every page `gt` names (image paths relative to `dir`) with `ocr`.
///
/// # Errors
/// [`crate::Error::Image`] for an image that cannot be read, or as [`Ocr::read`].
pub fn read_pages(ocr: &Ocr, dir: &Path, gt: &Pages) -> Result<Pages> {
    let mut out = Pages::new();
    for name in gt.keys() {
        let image = crate::train::open_image(&dir.join(name))?;
        let lines = ocr
            .read(&image)?
            .into_iter()
            .map(|l| whet_core::geom::TextRegion::new(l.polygon, l.text))
            .collect();
        out.insert(name.clone(), lines);
    }
    Ok(out)
}

/// End-to-end scores of `ocr` on the pages `gt` names (image paths relative to `dir`):
/// detection under the DB protocol, recognition on the matched lines.
///
/// # Errors
/// As [`read_pages`].
pub fn evaluate(
    ocr: &Ocr,
    dir: &Path,
    gt: &Pages,
    options: &EndToEndOptions,
) -> Result<EndToEndReport> {
    Ok(end_to_end(gt, &read_pages(ocr, dir, gt)?, options))
}

/// Labelled pages to measure a pipeline on: a folder, its pages' ground truth (image
/// paths relative to the folder) and how lines are compared.
#[derive(Debug, Clone)]
pub struct EvalSet {
    /// The folder the image paths are relative to.
    pub dir: PathBuf,
    /// Each page's ground-truth lines.
    pub pages: Pages,
    /// How lines are matched and compared.
    pub options: EndToEndOptions,
}

impl EvalSet {
    /// `pages` in `dir`, compared with the default options (spaces ignored, case kept).
    pub fn new(dir: impl Into<PathBuf>, pages: Pages) -> Self {
        EvalSet {
            dir: dir.into(),
            pages,
            options: EndToEndOptions::default(),
        }
    }

    /// Compared upper-cased, as SROIE's transcripts are.
    #[must_use]
    pub fn upper_case(mut self) -> Self {
        self.options.upper_case = true;
        self
    }

    /// [`evaluate`] on this set.
    ///
    /// # Errors
    /// As [`read_pages`].
    pub fn evaluate(&self, ocr: &Ocr) -> Result<EndToEndReport> {
        evaluate(ocr, &self.dir, &self.pages, &self.options)
    }
}
