//! The PP-OCR text recognizer: a backbone (PP-OCRv4's PPLCNetV3 or PP-OCRv6's), an SVTR
//! neck and a CTC head, as ordinary burn modules loaded from PaddleOCR's ONNX export.

mod svtr;

use std::path::Path;

use burn::module::Module;
use burn::nn::Linear;
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor};

pub use svtr::{Attention, Block, ConvBnSwish, ShortcutSvtrNeck, SvtrNeck};

use crate::det::Backbone;
use crate::dict::CharDict;
use crate::error::{Error, Result};
use crate::graph::Cursor;
use crate::onnx::OnnxModel;

/// File name of fine-tuned recognizer weights ([`SvtrRecognizer::save`]).
pub const FINETUNED_WEIGHTS: &str = "rec.safetensors";
/// File name of a fine-tuned recognizer's dictionary.
pub const FINETUNED_DICT: &str = "rec_dict.txt";

/// The recognizer's neck.
#[derive(Module, Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "one per network, built once: the size difference costs nothing"
)]
pub enum RecNeck {
    /// PP-OCRv4's `EncoderWithSVTR`.
    Svtr(SvtrNeck),
    /// PP-OCRv6's.
    Shortcut(ShortcutSvtrNeck),
}

impl RecNeck {
    /// `[N, C, 1, T]` -> `[N, T, D]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<3> {
        match self {
            RecNeck::Svtr(n) => n.forward(x),
            RecNeck::Shortcut(n) => n.forward(x),
        }
    }
}

/// The recognizer.
#[derive(Module, Debug)]
pub struct SvtrRecognizer {
    /// PPLCNetV3, recognition variant (PP-OCRv4), or PP-OCRv6's backbone.
    pub backbone: Backbone,
    /// `3 x 2` average pooling that brings the height to 1.
    pub pool: AvgPool2d,
    /// The neck.
    pub neck: RecNeck,
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

    /// The recognizer for a changed dictionary `new` (from `old`, the one it was trained
    /// with; typically [`CharDict::with_chars`]). Each class of `new` keeps its CTC head
    /// column when `old` has it; a new character starts from the column of the
    /// look-alike `like` names for it (`P` for `₱`, `n` for `ñ`), so the model reads the
    /// new character as its look-alike until training separates them, or, without one,
    /// from the mean column with the lowest bias, so it is not predicted before training.
    ///
    /// # Errors
    /// [`Error::Readback`] when the head cannot be read from the device.
    pub fn with_dict(
        mut self,
        old: &CharDict,
        new: &CharDict,
        like: impl Fn(&str) -> Option<char>,
    ) -> Result<Self> {
        let [d, c_old] = self.head.weight.dims();
        let device = self.head.weight.device();
        let read = |t: Tensor<1>| {
            t.into_data()
                .try_to_vec::<f32>()
                .map_err(|e| Error::readback("the CTC head", e))
        };
        let w: Vec<f32> = read(self.head.weight.val().reshape([d * c_old]))?;
        let b: Vec<f32> = match &self.head.bias {
            Some(b) => read(b.val())?,
            None => vec![0.0; c_old],
        };
        let old_index = |text: &str| -> Option<usize> {
            if text.is_empty() {
                return Some(0);
            }
            let mut chars = text.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => old.class_of(c),
                _ => (1..old.len()).find(|&i| old.get(i) == Some(text)),
            }
        };
        let mean: Vec<f32> = (0..d)
            .map(|r| w[r * c_old..(r + 1) * c_old].iter().sum::<f32>() / c_old as f32)
            .collect();
        let min_bias = b.iter().copied().fold(f32::INFINITY, f32::min);
        let c_new = new.len();
        let (mut w2, mut b2) = (vec![0f32; d * c_new], vec![0f32; c_new]);
        for j in 0..c_new {
            let text = new.get(j).unwrap_or_default();
            let source = old_index(text).or_else(|| like(text).and_then(|c| old.class_of(c)));
            for r in 0..d {
                w2[r * c_new + j] = source.map_or(mean[r], |i| w[r * c_old + i]);
            }
            b2[j] = source.map_or(min_bias, |i| b[i]);
        }
        self.head.weight = burn::module::Param::from_tensor(
            Tensor::from_data(burn::tensor::TensorData::new(w2, [d, c_new]), &device).detach(),
        );
        self.head.bias = Some(burn::module::Param::from_tensor(
            Tensor::from_data(burn::tensor::TensorData::new(b2, [c_new]), &device).detach(),
        ));
        Ok(self)
    }

    /// Saves fine-tuned weights and their dictionary in `dir`: `rec.safetensors` and
    /// `rec_dict.txt` (PaddleOCR's dictionary format), each written atomically.
    ///
    /// # Errors
    /// [`Error::Weights`] or [`Error::Core`] when a file cannot be written.
    pub fn save(&self, dict: &CharDict, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        crate::weights::save(self, &dir.join(FINETUNED_WEIGHTS))?;
        whet_core::data::atomic_write(dir.join(FINETUNED_DICT), dict.to_dict_file().as_bytes())?;
        Ok(())
    }

    /// Loads a recognizer saved by [`SvtrRecognizer::save`]: the architecture from the
    /// PP-OCRv4 ONNX file `onnx`, the head sized for the saved dictionary, the weights from
    /// `dir`.
    ///
    /// # Errors
    /// [`Error::Core`] for a missing file, [`Error::Weights`] when the weights do not fit.
    pub fn load(
        onnx: impl AsRef<Path>,
        dir: impl AsRef<Path>,
        device: &Device,
    ) -> Result<(Self, CharDict)> {
        let dir = dir.as_ref();
        let (net, base) = Self::from_onnx(onnx, device)?;
        let dict_path = dir.join(FINETUNED_DICT);
        let text = std::fs::read_to_string(&dict_path)
            .map_err(|e| whet_core::Error::file(&dict_path, e))?;
        let lines: Vec<&str> = text.lines().collect();
        let dict = CharDict::from_lines(&lines);
        let net = net.with_dict(&base, &dict, |_| None)?;
        let net = crate::weights::load(net, &dir.join(FINETUNED_WEIGHTS))?;
        Ok((net, dict))
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
    pub(crate) fn from_model(model: &OnnxModel, device: &Device) -> Result<Self> {
        let mut g = Cursor::new(model, device);
        let backbone = Backbone::read(&mut g, false)?;
        let pool_node = g.expect("AveragePool")?;
        let k = pool_node.ints("kernel_shape", &[3, 2]);
        let s = pool_node.ints("strides", &k);
        let to = |v: &[i64], i: usize| v.get(i).copied().unwrap_or(1).max(1) as usize;
        let pool = AvgPool2dConfig::new([to(&k, 0), to(&k, 1)])
            .with_strides([to(&s, 0), to(&s, 1)])
            .init();
        let neck = match backbone {
            Backbone::LcNetV3(_) => RecNeck::Svtr(SvtrNeck::read(&mut g)?),
            Backbone::RepVit(_) => RecNeck::Shortcut(ShortcutSvtrNeck::read(&mut g)?),
        };
        let head = g.linear()?;
        g.expect("Softmax")?;
        if !g.finished() {
            return Err(Error::weights(
                &model.path,
                "nodes left after the CTC head: not a PP-OCR v4 or v6 recognizer",
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
