//! The recognizer's architecture configs (the parts the detector does not share).

use burn::nn::PaddingConfig2d;
use burn::nn::pool::AvgPool2dConfig;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::{BackboneConfig, BatchNormSpec, ConvConfig, LayerNormSpec, LinearSpec};
use crate::rec::{
    Attention, Block, ConvBnSwish, RecNeck, ShortcutSvtrNeck, SvtrNeck, SvtrRecognizer,
};

/// [`ConvBnSwish`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConvBnSwishSpec {
    /// The convolution.
    pub conv: ConvConfig,
    /// Its batch norm.
    pub bn: BatchNormSpec,
}

impl ConvBnSwishSpec {
    fn of(c: &ConvBnSwish) -> Self {
        ConvBnSwishSpec {
            conv: ConvConfig::of(&c.conv),
            bn: BatchNormSpec::of(&c.bn),
        }
    }

    fn init(&self, device: &Device) -> ConvBnSwish {
        ConvBnSwish {
            conv: self.conv.init(device),
            bn: self.bn.init(device),
        }
    }
}

/// A transformer [`Block`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockSpec {
    /// Both layer norms' epsilon.
    pub norm_epsilon: f64,
    /// Norm before attention.
    pub norm1: LayerNormSpec,
    /// `C -> 3C`.
    pub qkv: LinearSpec,
    /// `C -> C`.
    pub proj: LinearSpec,
    /// Attention heads.
    pub heads: usize,
    /// Query scale.
    pub scale: f64,
    /// Norm before the MLP.
    pub norm2: LayerNormSpec,
    /// MLP in.
    pub fc1: LinearSpec,
    /// MLP out.
    pub fc2: LinearSpec,
}

fn block_spec(b: &Block) -> BlockSpec {
    BlockSpec {
        norm_epsilon: b.norm_epsilon,
        norm1: LayerNormSpec::of(&b.norm1),
        qkv: LinearSpec::of(&b.attn.qkv),
        proj: LinearSpec::of(&b.attn.proj),
        heads: b.attn.heads,
        scale: b.attn.scale,
        norm2: LayerNormSpec::of(&b.norm2),
        fc1: LinearSpec::of(&b.fc1),
        fc2: LinearSpec::of(&b.fc2),
    }
}

fn block_init(b: &BlockSpec, device: &Device) -> Block {
    Block {
        norm_epsilon: b.norm_epsilon,
        norm1: b.norm1.init(b.norm_epsilon, device),
        attn: Attention {
            qkv: b.qkv.init(device),
            proj: b.proj.init(device),
            heads: b.heads,
            scale: b.scale,
        },
        norm2: b.norm2.init(b.norm_epsilon, device),
        fc1: b.fc1.init(device),
        fc2: b.fc2.init(device),
    }
}

/// PP-OCRv4's `EncoderWithSVTR`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SvtrNeckSpec {
    /// Local convolutions before the blocks.
    pub conv1: ConvBnSwishSpec,
    /// Second local convolution.
    pub conv2: ConvBnSwishSpec,
    /// Transformer blocks.
    pub blocks: Vec<BlockSpec>,
    /// Final layer norm.
    pub norm: LayerNormSpec,
    /// Its epsilon.
    pub norm_epsilon: f64,
    /// Convolutions after the blocks.
    pub conv3: ConvBnSwishSpec,
    /// Fusion with the backbone's features.
    pub conv4: ConvBnSwishSpec,
    /// Last `1 x 1` convolution.
    pub conv1x1: ConvBnSwishSpec,
}

/// PP-OCRv6's recognizer neck.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShortcutSvtrNeckSpec {
    /// The shortcut.
    pub shortcut: ConvBnSwishSpec,
    /// The local `1 x 1`.
    pub local: ConvBnSwishSpec,
    /// The local `1 x 7` depthwise.
    pub local_dw: ConvBnSwishSpec,
    /// Transformer blocks.
    pub blocks: Vec<BlockSpec>,
    /// Final layer norm.
    pub norm: LayerNormSpec,
    /// Its epsilon.
    pub norm_epsilon: f64,
}

/// Either neck (untagged and flattened into the recognizer's config: a PP-OCRv4 file
/// reads as before).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[allow(
    clippy::large_enum_variant,
    reason = "one per network, built once: the size difference costs nothing"
)]
pub enum RecNeckConfig {
    /// PP-OCRv4's.
    Svtr(SvtrNeckSpec),
    /// PP-OCRv6's.
    Shortcut(ShortcutSvtrNeckSpec),
}

impl RecNeckConfig {
    /// The config of `neck`.
    pub fn of(neck: &RecNeck) -> Self {
        match neck {
            RecNeck::Svtr(n) => RecNeckConfig::Svtr(SvtrNeckSpec {
                conv1: ConvBnSwishSpec::of(&n.conv1),
                conv2: ConvBnSwishSpec::of(&n.conv2),
                blocks: n.blocks.iter().map(block_spec).collect(),
                norm: LayerNormSpec::of(&n.norm),
                norm_epsilon: n.norm_epsilon,
                conv3: ConvBnSwishSpec::of(&n.conv3),
                conv4: ConvBnSwishSpec::of(&n.conv4),
                conv1x1: ConvBnSwishSpec::of(&n.conv1x1),
            }),
            RecNeck::Shortcut(n) => RecNeckConfig::Shortcut(ShortcutSvtrNeckSpec {
                shortcut: ConvBnSwishSpec::of(&n.shortcut),
                local: ConvBnSwishSpec::of(&n.local),
                local_dw: ConvBnSwishSpec::of(&n.local_dw),
                blocks: n.blocks.iter().map(block_spec).collect(),
                norm: LayerNormSpec::of(&n.norm),
                norm_epsilon: n.norm_epsilon,
            }),
        }
    }

    /// The neck (placeholder weights).
    pub fn init(&self, device: &Device) -> RecNeck {
        match self {
            RecNeckConfig::Svtr(c) => RecNeck::Svtr(SvtrNeck {
                norm_epsilon: c.norm_epsilon,
                conv1: c.conv1.init(device),
                conv2: c.conv2.init(device),
                blocks: c.blocks.iter().map(|b| block_init(b, device)).collect(),
                norm: c.norm.init(c.norm_epsilon, device),
                conv3: c.conv3.init(device),
                conv4: c.conv4.init(device),
                conv1x1: c.conv1x1.init(device),
            }),
            RecNeckConfig::Shortcut(c) => RecNeck::Shortcut(ShortcutSvtrNeck {
                norm_epsilon: c.norm_epsilon,
                shortcut: c.shortcut.init(device),
                local: c.local.init(device),
                local_dw: c.local_dw.init(device),
                blocks: c.blocks.iter().map(|b| block_init(b, device)).collect(),
                norm: c.norm.init(c.norm_epsilon, device),
            }),
        }
    }
}

/// The recognizer's architecture: `SvtrRecognizerConfig::of(&rec).init(device)` builds
/// the same network (its CTC head sized for the dictionary it was saved with).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SvtrRecognizerConfig {
    /// The backbone (recognition variant).
    pub backbone: BackboneConfig,
    /// Average pooling: kernel.
    pub pool_kernel: [usize; 2],
    /// Average pooling: stride.
    pub pool_stride: [usize; 2],
    /// Average pooling: padding.
    pub pool_padding: PaddingConfig2d,
    /// Average pooling: whether padding counts in the mean.
    pub pool_count_include_pad: bool,
    /// Average pooling: ceil mode.
    pub pool_ceil_mode: bool,
    /// The neck.
    #[serde(flatten)]
    pub neck: RecNeckConfig,
    /// CTC head.
    pub head: LinearSpec,
}

impl SvtrRecognizerConfig {
    /// The config of `rec`.
    pub fn of(rec: &SvtrRecognizer) -> Self {
        SvtrRecognizerConfig {
            backbone: BackboneConfig::of(&rec.backbone),
            pool_kernel: rec.pool.kernel_size,
            pool_stride: rec.pool.stride,
            pool_padding: rec.pool.padding.clone(),
            pool_count_include_pad: rec.pool.count_include_pad,
            pool_ceil_mode: rec.pool.ceil_mode,
            neck: RecNeckConfig::of(&rec.neck),
            head: LinearSpec::of(&rec.head),
        }
    }

    /// The network (placeholder weights).
    pub fn init(&self, device: &Device) -> SvtrRecognizer {
        SvtrRecognizer {
            backbone: self.backbone.init(device),
            pool: AvgPool2dConfig::new(self.pool_kernel)
                .with_strides(self.pool_stride)
                .with_padding(self.pool_padding.clone())
                .with_count_include_pad(self.pool_count_include_pad)
                .with_ceil_mode(self.pool_ceil_mode)
                .init(),
            neck: self.neck.init(device),
            head: self.head.init(device),
        }
    }
}
