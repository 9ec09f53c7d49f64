//! The PP-OCR text detector (DBNet): a backbone (PP-OCRv4's PPLCNetV3 or PP-OCRv6's
//! RepViT-style network), RSE-FPN neck, DB head, as ordinary burn modules loaded from
//! PaddleOCR's ONNX export.

mod backbone;
mod head;
mod layers;
mod neck;
mod repvit;

use std::path::Path;

use burn::module::Module;
use burn::tensor::{Device, Tensor};

pub use backbone::{LcBlock, LcNetV3};
pub use head::DbHead;
pub use layers::{Affine, RepConv, SqueezeExcite, hard_swish, upsample};
pub use neck::{RseFpn, RseLayer};
pub use repvit::{HgStem, RepVitBlock, RepVitNet};

use crate::error::{Error, Result};
use crate::graph::Cursor;
use crate::onnx::OnnxModel;

/// File name of fine-tuned detector weights ([`DbNet::save`]).
pub const FINETUNED_WEIGHTS: &str = "det.safetensors";

/// A PP-OCR backbone: PP-OCRv4's PPLCNetV3 or PP-OCRv6's RepViT-style network. (Saved
/// weights leave the variant out of their names: `backbone.stem...` either way.)
#[derive(Module, Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "one per network, built once: the size difference costs nothing"
)]
pub enum Backbone {
    /// PPLCNetV3 (PP-OCRv4).
    LcNetV3(LcNetV3),
    /// HGNetV2 stem and RepViT-style blocks (PP-OCRv6).
    RepVit(RepVitNet),
}

impl Backbone {
    /// The detector's use: four maps at strides 4, 8, 16, 32.
    pub fn forward(&self, x: Tensor<4>) -> [Tensor<4>; 4] {
        match self {
            Backbone::LcNetV3(n) => n.forward(x),
            Backbone::RepVit(n) => n.forward(x),
        }
    }

    /// The recognizer's use: the last map.
    pub fn forward_last(&self, x: Tensor<4>) -> Tensor<4> {
        match self {
            Backbone::LcNetV3(n) => n.forward_last(x),
            Backbone::RepVit(n) => n.forward_last(x),
        }
    }

    /// Reads whichever backbone the graph starts with: PPLCNetV3's stem has an unfolded
    /// batch norm, PP-OCRv6's a ReLU.
    pub(crate) fn read(g: &mut Cursor<'_>, detection: bool) -> Result<Self> {
        if g.peek(1) == Some("BatchNormalization") {
            Ok(Backbone::LcNetV3(LcNetV3::read(g, detection)?))
        } else {
            Ok(Backbone::RepVit(RepVitNet::read(g)?))
        }
    }

    /// Which PP-OCR generation this backbone belongs to.
    pub fn generation(&self) -> &'static str {
        match self {
            Backbone::LcNetV3(_) => "PP-OCRv4",
            Backbone::RepVit(_) => "PP-OCRv6",
        }
    }
}

/// The detector.
#[derive(Module, Debug)]
pub struct DbNet {
    /// PPLCNetV3 (PP-OCRv4) or the RepViT-style backbone (PP-OCRv6).
    pub backbone: Backbone,
    /// RSE-FPN.
    pub neck: RseFpn,
    /// DB head (probability branch).
    pub head: DbHead,
}

impl DbNet {
    /// `x`: normalised image `[N, 3, H, W]`, `H` and `W` multiples of 32 -> text
    /// probability `[N, 1, H, W]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.head
            .forward(self.neck.forward(self.backbone.forward(x)))
    }

    /// Saves fine-tuned weights as `dir/det.safetensors` (atomically).
    ///
    /// # Errors
    /// [`Error::Weights`] or [`Error::Core`] when the file cannot be written.
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        crate::weights::save(self, &dir.as_ref().join(FINETUNED_WEIGHTS))
    }

    /// Loads a detector saved by [`DbNet::save`]: the architecture from the PP-OCRv4
    /// ONNX file `onnx`, the weights from `dir`.
    ///
    /// # Errors
    /// [`Error::Core`] for a missing file, [`Error::Weights`] when the weights do not fit.
    pub fn load(onnx: impl AsRef<Path>, dir: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let net = Self::from_onnx(onnx, device)?;
        crate::weights::load(net, &dir.as_ref().join(FINETUNED_WEIGHTS))
    }

    /// Loads a PP-OCR detector from its ONNX file: PP-OCRv4's (`ch_PP-OCRv4_det_infer.onnx`)
    /// or PP-OCRv6's (`PP-OCRv6_det_small.onnx`).
    ///
    /// # Errors
    /// [`Error::Core`] when the file cannot be read; [`Error::Weights`] when it is not a
    /// well-formed ONNX file or not this architecture.
    pub fn from_onnx(path: impl AsRef<Path>, device: &Device) -> Result<Self> {
        Self::from_model(&OnnxModel::open(path)?, device)
    }

    /// [`DbNet::from_onnx`] from an already-read file.
    ///
    /// # Errors
    /// [`Error::Weights`] when the graph is not this architecture.
    pub(crate) fn from_model(model: &OnnxModel, device: &Device) -> Result<Self> {
        let mut g = Cursor::new(model, device);
        let net = DbNet {
            backbone: Backbone::read(&mut g, true)?,
            neck: RseFpn::read(&mut g)?,
            head: DbHead::read(&mut g)?,
        };
        if !g.finished() {
            return Err(Error::weights(
                &model.path,
                "nodes left after the DB head: not a PP-OCR v4 or v6 detector",
            ));
        }
        Ok(net)
    }
}
