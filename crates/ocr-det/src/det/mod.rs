//! The PP-OCRv4 text detector (DBNet): PPLCNetV3 backbone, RSE-FPN neck, DB head, as
//! ordinary burn modules loaded from PaddleOCR's ONNX export.

mod backbone;
mod head;
mod layers;
mod neck;

use std::path::Path;

use burn::module::Module;
use burn::tensor::{Device, Tensor};

pub use backbone::{LcBlock, LcNetV3};
pub use head::DbHead;
pub use layers::{Affine, RepConv, SqueezeExcite, hard_swish, upsample};
pub use neck::{RseFpn, RseLayer};

use crate::error::{Error, Result};
use crate::graph::Cursor;
use crate::onnx::OnnxModel;

/// File name of fine-tuned detector weights ([`DbNet::save`]).
pub const FINETUNED_WEIGHTS: &str = "det.safetensors";

/// The detector.
#[derive(Module, Debug)]
pub struct DbNet {
    /// PPLCNetV3.
    pub backbone: LcNetV3,
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

    /// Loads PP-OCRv4's detector from its ONNX file (`ch_PP-OCRv4_det_infer.onnx`).
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
            backbone: LcNetV3::read(&mut g, true)?,
            neck: RseFpn::read(&mut g)?,
            head: DbHead::read(&mut g)?,
        };
        if !g.finished() {
            return Err(Error::weights(
                &model.path,
                "nodes left after the DB head: not the PP-OCRv4 detector",
            ));
        }
        Ok(net)
    }
}
