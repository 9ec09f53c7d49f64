//! RSE-FPN: residual squeeze-excitation feature pyramid (96 channels).

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::tensor::Tensor;

use super::layers::{SqueezeExcite, upsample};
use crate::conv::conv2d;
use crate::error::Result;
use crate::graph::Cursor;

/// `RSELayer` with shortcut: `y = conv(x); y + se(y)`; in PP-OCRv6's output layers a
/// large depthwise convolution comes first.
#[derive(Module, Debug)]
pub struct RseLayer {
    /// PP-OCRv6's output layers: a `7 x 7` depthwise convolution (with bias) before `conv`.
    pub dw: Option<Conv2d>,
    /// The convolution (no bias).
    pub conv: Conv2d,
    /// Its squeeze-excitation.
    pub se: SqueezeExcite,
}

impl RseLayer {
    /// `x`: `[N, C_in, H, W]` -> `[N, C_out, H, W]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = match &self.dw {
            Some(dw) => conv2d(dw, x),
            None => x,
        };
        let y = conv2d(&self.conv, x);
        y.clone().add(self.se.forward(y))
    }

    fn read(g: &mut Cursor<'_>) -> Result<Self> {
        let dw = if g.next_is_depthwise() {
            Some(g.conv()?)
        } else {
            None
        };
        let conv = g.conv()?;
        let se = SqueezeExcite::read(g)?;
        g.expect("Add")?;
        Ok(RseLayer { dw, conv, se })
    }
}

/// The neck: lateral layers to 96 channels, top-down sums, 3x3 layers to 24 channels,
/// upsampled to stride 4 and concatenated.
#[derive(Module, Debug)]
pub struct RseFpn {
    /// Lateral `1 x 1` layers for the stride 4, 8, 16, 32 maps.
    pub lateral: Vec<RseLayer>,
    /// Output `3 x 3` layers, same order.
    pub output: Vec<RseLayer>,
}

impl RseFpn {
    /// Four backbone maps (strides 4..32) -> `[N, 96, H / 4, W / 4]`.
    pub fn forward(&self, [c2, c3, c4, c5]: [Tensor<4>; 4]) -> Tensor<4> {
        let in5 = self.lateral[3].forward(c5);
        let in4 = self.lateral[2].forward(c4);
        let in3 = self.lateral[1].forward(c3);
        let in2 = self.lateral[0].forward(c2);
        let out4 = in4.add(upsample(in5.clone(), 2));
        let out3 = in3.add(upsample(out4.clone(), 2));
        let out2 = in2.add(upsample(out3.clone(), 2));
        let p5 = upsample(self.output[3].forward(in5), 8);
        let p4 = upsample(self.output[2].forward(out4), 4);
        let p3 = upsample(self.output[1].forward(out3), 2);
        let p2 = self.output[0].forward(out2);
        Tensor::cat(vec![p5, p4, p3, p2], 1)
    }

    pub(crate) fn read(g: &mut Cursor<'_>) -> Result<Self> {
        // The graph applies the lateral layers from the coarsest map down, then the
        // three top-down sums, then the output layers, again coarsest first.
        let mut lateral = (0..4)
            .map(|_| RseLayer::read(g))
            .collect::<Result<Vec<_>>>()?;
        for _ in 0..3 {
            g.expect("Resize")?;
            g.expect("Add")?;
        }
        let mut output = (0..4)
            .map(|_| RseLayer::read(g))
            .collect::<Result<Vec<_>>>()?;
        for _ in 0..3 {
            g.expect("Resize")?;
        }
        g.expect("Concat")?;
        lateral.reverse();
        output.reverse();
        Ok(RseFpn { lateral, output })
    }
}
