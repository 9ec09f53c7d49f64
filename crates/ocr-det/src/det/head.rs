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
/// (PP-OCRv6's export folds the batch norms into the convolutions: the first is taken
/// apart again when read, `unfold_batch_norm`; the second stays `None`).
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
        let mut conv = g.conv()?;
        let bn = |g: &mut Cursor<'_>| -> Result<Option<BatchNorm>> {
            if g.next_is("BatchNormalization") {
                Ok(Some(g.batch_norm()?))
            } else {
                Ok(None)
            }
        };
        let bn1 = match bn(g)? {
            Some(bn) => Some(bn),
            None => Some(unfold_batch_norm(&mut conv)),
        };
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

/// Takes a batch norm that an export folded into `conv` apart again: each output channel's
/// weights divided by their largest magnitude `s`, and a batch norm with gamma `s`, beta
/// the conv's bias, running mean 0 and variance `1 - epsilon` after it. The same function
/// (to float rounding);
/// but trainable by Adam, whose steps are the same size for every parameter: PP-OCRv6's
/// folded head conv has weights of about 2e-3 (max 2.4e-2), which a step of 2e-5 already
/// moves by 1%, and fine-tuning collapsed its map within 100 steps (crate README,
/// "Detector").
pub(crate) fn unfold_batch_norm(conv: &mut Conv2d) -> BatchNorm {
    let [out, cin, kh, kw] = conv.weight.dims();
    let device = conv.weight.device();
    let w = conv.weight.val();
    let scale = w
        .clone()
        .reshape([out, cin * kh * kw])
        .abs()
        .max_dim(1)
        .reshape([out])
        .clamp_min(1e-12);
    conv.weight =
        burn::module::Param::from_tensor(w.div(scale.clone().reshape([out, 1, 1, 1])).detach());
    let beta = match conv.bias.take() {
        Some(b) => b.val(),
        None => burn::tensor::Tensor::zeros([out], &device),
    };
    let epsilon = 1e-5;
    let mut bn = burn::nn::BatchNormConfig::new(out)
        .with_epsilon(epsilon)
        .init(&device);
    bn.gamma = burn::module::Param::from_tensor(scale.detach());
    bn.beta = burn::module::Param::from_tensor(beta.detach());
    bn.running_mean = burn::module::RunningState::new(burn::tensor::Tensor::zeros([out], &device));
    bn.running_var =
        burn::module::RunningState::new(burn::tensor::Tensor::full([out], 1.0 - epsilon, &device));
    bn
}
