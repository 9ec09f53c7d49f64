//! The PP-OCRv4 text recognizer (SVTR-LCNet): PPLCNetV3 backbone, SVTR neck and a CTC
//! head, as ordinary burn modules loaded from PaddleOCR's ONNX export.

mod svtr;

use std::path::Path;

use burn::module::Module;
use burn::nn::Linear;
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor};

pub use svtr::{Attention, Block, ConvBnSwish, SvtrNeck};

use crate::det::LcNetV3;
use crate::dict::CharDict;
use crate::error::{Error, Result};
use crate::graph::Cursor;
use crate::onnx::OnnxModel;

/// The recognizer.
#[derive(Module, Debug)]
pub struct SvtrRecognizer {
    /// PPLCNetV3 (recognition variant).
    pub backbone: LcNetV3,
    /// `3 x 2` average pooling that brings the height to 1.
    pub pool: AvgPool2d,
    /// `EncoderWithSVTR`.
    pub neck: SvtrNeck,
    /// CTC head: `120 -> classes`.
    pub head: Linear,
}

impl SvtrRecognizer {
    /// `x`: normalised text-line images `[N, 3, 48, W]` (`W` a multiple of 8) -> CTC
    /// logits `[N, W / 8, classes]`.
    pub fn logits(&self, x: Tensor<4>) -> Tensor<3> {
        let f = self.pool.forward(self.backbone.forward_last(x));
        self.head.forward(self.neck.forward(f))
    }

    /// Class probabilities per time step, `[N, W / 8, classes]` (the ONNX model's output).
    pub fn forward(&self, x: Tensor<4>) -> Tensor<3> {
        softmax(self.logits(x), 2)
    }

    /// Loads PP-OCRv4's recognizer and its dictionary from the ONNX file
    /// (`ch_PP-OCRv4_rec_infer.onnx`).
    ///
    /// # Errors
    /// [`Error::Core`] when the file cannot be read; [`Error::Weights`] when it is not a
    /// well-formed ONNX file, not this architecture, or its dictionary does not match
    /// the output layer.
    pub fn from_onnx(path: impl AsRef<Path>, device: &Device) -> Result<(Self, CharDict)> {
        let model = OnnxModel::open(path)?;
        let dict = CharDict::from_onnx(&model)?;
        let net = Self::from_model(&model, device)?;
        let [_, classes] = net.head.weight.dims();
        if classes != dict.len() {
            return Err(Error::weights(
                &model.path,
                format!(
                    "{classes} output classes but a dictionary of {} (with blank and space)",
                    dict.len()
                ),
            ));
        }
        Ok((net, dict))
    }

    /// [`SvtrRecognizer::from_onnx`] from an already-read file (the network only).
    ///
    /// # Errors
    /// [`Error::Weights`] when the graph is not this architecture.
    pub fn from_model(model: &OnnxModel, device: &Device) -> Result<Self> {
        let mut g = Cursor::new(model, device);
        let backbone = LcNetV3::read(&mut g, false)?;
        let pool_node = g.expect("AveragePool")?;
        let k = pool_node.ints("kernel_shape", &[3, 2]);
        let s = pool_node.ints("strides", &k);
        let to = |v: &[i64], i: usize| v.get(i).copied().unwrap_or(1).max(1) as usize;
        let pool = AvgPool2dConfig::new([to(&k, 0), to(&k, 1)])
            .with_strides([to(&s, 0), to(&s, 1)])
            .init();
        let neck = SvtrNeck::read(&mut g)?;
        let head = g.linear()?;
        g.expect("Softmax")?;
        if !g.finished() {
            return Err(Error::weights(
                &model.path,
                "nodes left after the CTC head: not the PP-OCRv4 recognizer",
            ));
        }
        Ok(SvtrRecognizer {
            backbone,
            pool,
            neck,
            head,
        })
    }
}
