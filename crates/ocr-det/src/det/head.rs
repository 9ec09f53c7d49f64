//! DB head, probability (binarize) branch.

use burn::module::Module;
use burn::nn::BatchNorm;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::tensor::Tensor;
use burn::tensor::activation::{relu, sigmoid};

use crate::conv::conv2d;
use crate::error::Result;
use crate::graph::Cursor;

/// `3 x 3` conv + BN + ReLU, 2x transposed conv + BN + ReLU, 2x transposed conv, sigmoid
/// (PP-OCRv6's export folds the batch norms into the convolutions: `None`).
#[derive(Module, Debug)]
pub struct DbHead {
    /// `96 -> 24`, no bias.
    pub conv: Conv2d,
    /// Its batch norm.
    pub bn1: Option<BatchNorm>,
    /// `24 -> 24`, kernel 2, stride 2.
    pub up1: ConvTranspose2d,
    /// Its batch norm.
    pub bn2: Option<BatchNorm>,
    /// `24 -> 1`, kernel 2, stride 2.
    pub up2: ConvTranspose2d,
}

impl DbHead {
    /// `[N, 96, H / 4, W / 4]` -> text probability `[N, 1, H, W]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let bn = |bn: &Option<BatchNorm>, x: Tensor<4>| match bn {
            Some(bn) => bn.forward(x),
            None => x,
        };
        let x = relu(bn(&self.bn1, conv2d(&self.conv, x)));
        let x = relu(bn(&self.bn2, self.up1.forward(x)));
        sigmoid(self.up2.forward(x))
    }

    pub(crate) fn read(g: &mut Cursor<'_>) -> Result<Self> {
        let conv = g.conv()?;
        let bn = |g: &mut Cursor<'_>| -> Result<Option<BatchNorm>> {
            if g.next_is("BatchNormalization") {
                Ok(Some(g.batch_norm()?))
            } else {
                Ok(None)
            }
        };
        let bn1 = bn(g)?;
        g.expect("Relu")?;
        let up1 = g.conv_transpose_with_bias()?;
        let bn2 = bn(g)?;
        g.expect("Relu")?;
        let up2 = g.conv_transpose_with_bias()?;
        g.expect("Sigmoid")?;
        Ok(DbHead {
            conv,
            bn1,
            up1,
            bn2,
            up2,
        })
    }
}
