//! PPLCNetV3 in its re-parameterised inference form: the detector's (scale 0.75, four
//! outputs) and the recognizer's (scale 0.95, anisotropic strides, one output).

use burn::module::Module;
use burn::nn::BatchNorm;
use burn::nn::conv::Conv2d;
use burn::tensor::Tensor;

use super::layers::{RepConv, SqueezeExcite};
use crate::conv::conv2d;
use crate::error::Result;
use crate::graph::Cursor;

/// One `LCNetV3Block`: depthwise conv, optional squeeze-excitation, pointwise conv.
#[derive(Module, Debug)]
pub struct LcBlock {
    /// Depthwise `k x k` convolution (stride 1 or 2).
    pub dw: RepConv,
    /// Squeeze-excitation (the last stage's first two blocks).
    pub se: Option<SqueezeExcite>,
    /// Pointwise `1 x 1` convolution.
    pub pw: RepConv,
}

impl LcBlock {
    /// `x`: `[N, C_in, H, W]` -> `[N, C_out, H / s, W / s]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut y = self.dw.forward(x);
        if let Some(se) = &self.se {
            y = se.forward(y);
        }
        self.pw.forward(y)
    }

    fn read(g: &mut Cursor<'_>) -> Result<Self> {
        let mut dw = RepConv::read(g)?;
        let se = if g.next_is("GlobalAveragePool") {
            Some(SqueezeExcite::read(g)?)
        } else {
            None
        };
        let mut pw = RepConv::read(g)?;
        if se.is_none() {
            // Nothing between the two convolutions but the affine: fold it.
            dw.fold_affine_into(&mut pw);
        }
        Ok(LcBlock { dw, se, pw })
    }
}

/// Blocks per stage (`blocks2` .. `blocks6`); features are taken after stages 3 to 6.
const STAGES: [usize; 5] = [1, 2, 2, 5, 4];

/// The backbone: stem, 14 blocks in five stages, and the detection variant's 1x1 output
/// convolutions.
#[derive(Module, Debug)]
pub struct LcNetV3 {
    /// Stem `3 x 3` stride-2 convolution (no bias) ...
    pub stem: Conv2d,
    /// ... and its batch norm (no activation).
    pub stem_bn: BatchNorm,
    /// All blocks, stage after stage.
    pub blocks: Vec<LcBlock>,
    /// Detection only: `1 x 1` convolutions turning the four stage outputs into the
    /// neck's inputs (empty in the recognizer's backbone).
    pub outs: Vec<Conv2d>,
}

impl LcNetV3 {
    /// `x`: `[N, 3, H, W]` (H, W multiples of 32) -> four maps at strides 4, 8, 16, 32
    /// with 12, 18, 42 and 360 channels.
    pub fn forward(&self, x: Tensor<4>) -> [Tensor<4>; 4] {
        let mut x = self.stem_bn.forward(self.stem.forward(x));
        let mut feats = Vec::with_capacity(4);
        let mut b = 0;
        for (stage, &n) in STAGES.iter().enumerate() {
            for block in &self.blocks[b..b + n] {
                x = block.forward(x);
            }
            b += n;
            if stage > 0 {
                feats.push(conv2d(&self.outs[stage - 1], x.clone()));
            }
        }
        let mut it = feats.into_iter();
        std::array::from_fn(|_| it.next().expect("four stages"))
    }

    /// The recognizer's use: `[N, 3, 48, W]` -> the last stage's map `[N, 480, 3, W / 4]`
    /// (its stride-2 steps are vertical only after the first two).
    pub fn forward_last(&self, x: Tensor<4>) -> Tensor<4> {
        let mut x = self.stem_bn.forward(self.stem.forward(x));
        for block in &self.blocks {
            x = block.forward(x);
        }
        x
    }

    /// Reads the stem and blocks, and with `detection` the four output convolutions.
    pub(crate) fn read(g: &mut Cursor<'_>, detection: bool) -> Result<Self> {
        let stem = g.conv()?;
        let stem_bn = g.batch_norm()?;
        let blocks = (0..STAGES.iter().sum::<usize>())
            .map(|_| LcBlock::read(g))
            .collect::<Result<Vec<_>>>()?;
        let outs = if detection {
            (0..4).map(|_| g.conv()).collect::<Result<Vec<_>>>()?
        } else {
            Vec::new()
        };
        Ok(LcNetV3 {
            stem,
            stem_bn,
            blocks,
            outs,
        })
    }
}
