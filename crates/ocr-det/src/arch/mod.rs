//! Architecture configs: every layer's hyper-parameters, so a fine-tuned PP-OCR pipeline
//! is built from its `config.json` (`Config -> init`) and its safetensors alone, without
//! the ONNX file it was first read from.
//!
//! Each `XConfig` is read off a built module ([`DbNetConfig::of`],
//! [`SvtrRecognizerConfig::of`]) and builds the same structure again with `init`; the
//! weights then come from the safetensors file. Parameter values after `init` are
//! placeholders.

use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig, PaddingConfig2d,
};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::det::{
    Affine, Backbone, DbHead, DbNet, HgStem, LcBlock, LcNetV3, RepConv, RepVitBlock, RepVitNet,
    RseFpn, RseLayer, SqueezeExcite,
};

mod rec;

pub use rec::{
    BlockSpec, ConvBnSwishSpec, RecNeckConfig, ShortcutSvtrNeckSpec, SvtrNeckSpec,
    SvtrRecognizerConfig,
};

/// A 2-D convolution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConvConfig {
    /// `[in, out]` channels.
    pub channels: [usize; 2],
    /// Kernel size.
    pub kernel: [usize; 2],
    /// Stride.
    pub stride: [usize; 2],
    /// Dilation.
    pub dilation: [usize; 2],
    /// Groups.
    pub groups: usize,
    /// Padding.
    pub padding: PaddingConfig2d,
    /// Whether it has a bias.
    pub bias: bool,
}

impl ConvConfig {
    /// The config of `conv`.
    pub fn of(conv: &Conv2d) -> Self {
        let [out, in_per_group, ..] = conv.weight.dims();
        ConvConfig {
            channels: [in_per_group * conv.groups, out],
            kernel: conv.kernel_size,
            stride: conv.stride,
            dilation: conv.dilation,
            groups: conv.groups,
            padding: conv.padding.clone(),
            bias: conv.bias.is_some(),
        }
    }

    /// The layer.
    pub fn init(&self, device: &Device) -> Conv2d {
        Conv2dConfig::new(self.channels, self.kernel)
            .with_stride(self.stride)
            .with_dilation(self.dilation)
            .with_groups(self.groups)
            .with_padding(self.padding.clone())
            .with_bias(self.bias)
            .init(device)
    }
}

/// A 2-D transposed convolution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConvTransposeConfig {
    /// `[in, out]` channels.
    pub channels: [usize; 2],
    /// Kernel size.
    pub kernel: [usize; 2],
    /// Stride.
    pub stride: [usize; 2],
    /// Dilation.
    pub dilation: [usize; 2],
    /// Groups.
    pub groups: usize,
    /// Padding.
    pub padding: [usize; 2],
    /// Output padding.
    pub padding_out: [usize; 2],
    /// Whether it has a bias.
    pub bias: bool,
}

impl ConvTransposeConfig {
    /// The config of `conv`.
    pub fn of(conv: &ConvTranspose2d) -> Self {
        ConvTransposeConfig {
            channels: conv.channels,
            kernel: conv.kernel_size,
            stride: conv.stride,
            dilation: conv.dilation,
            groups: conv.groups,
            padding: conv.padding,
            padding_out: conv.padding_out,
            bias: conv.bias.is_some(),
        }
    }

    /// The layer.
    pub fn init(&self, device: &Device) -> ConvTranspose2d {
        ConvTranspose2dConfig::new(self.channels, self.kernel)
            .with_stride(self.stride)
            .with_dilation(self.dilation)
            .with_groups(self.groups)
            .with_padding(self.padding)
            .with_padding_out(self.padding_out)
            .with_bias(self.bias)
            .init(device)
    }
}

/// A batch norm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchNormSpec {
    /// Features.
    pub features: usize,
    /// Epsilon.
    pub epsilon: f64,
    /// Momentum of the running statistics.
    pub momentum: f64,
}

impl BatchNormSpec {
    /// The config of `bn`.
    pub fn of(bn: &BatchNorm) -> Self {
        BatchNormSpec {
            features: bn.gamma.dims()[0],
            epsilon: bn.epsilon,
            momentum: bn.momentum,
        }
    }

    /// The layer.
    pub fn init(&self, device: &Device) -> BatchNorm {
        BatchNormConfig::new(self.features)
            .with_epsilon(self.epsilon)
            .with_momentum(self.momentum)
            .init(device)
    }
}

/// A layer norm (its epsilon kept by the module that owns it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerNormSpec {
    /// Features.
    pub features: usize,
    /// Whether it has a bias.
    pub bias: bool,
}

impl LayerNormSpec {
    fn of(ln: &LayerNorm) -> Self {
        LayerNormSpec {
            features: ln.gamma.dims()[0],
            bias: ln.beta.is_some(),
        }
    }

    fn init(&self, epsilon: f64, device: &Device) -> LayerNorm {
        LayerNormConfig::new(self.features)
            .with_epsilon(epsilon)
            .with_bias(self.bias)
            .init(device)
    }
}

/// A linear layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearSpec {
    /// `[in, out]` features.
    pub features: [usize; 2],
    /// Whether it has a bias.
    pub bias: bool,
}

impl LinearSpec {
    fn of(l: &Linear) -> Self {
        LinearSpec {
            features: l.weight.dims(),
            bias: l.bias.is_some(),
        }
    }

    fn init(&self, device: &Device) -> Linear {
        LinearConfig::new(self.features[0], self.features[1])
            .with_bias(self.bias)
            .init(device)
    }
}

fn affine(device: &Device) -> Affine {
    Affine {
        scale: Param::from_tensor(Tensor::ones([1], device)),
        bias: Param::from_tensor(Tensor::zeros([1], device)),
    }
}

/// [`RepConv`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepConvSpec {
    /// The convolution.
    pub conv: ConvConfig,
    /// Hard-swish after it.
    pub activation: bool,
    /// The affine after hard-swish (not folded away).
    pub act: bool,
}

impl RepConvSpec {
    fn of(r: &RepConv) -> Self {
        RepConvSpec {
            conv: ConvConfig::of(&r.conv),
            activation: r.activation,
            act: r.act.is_some(),
        }
    }

    fn init(&self, device: &Device) -> RepConv {
        RepConv {
            conv: self.conv.init(device),
            activation: self.activation,
            act: self.act.then(|| affine(device)),
        }
    }
}

/// [`SqueezeExcite`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SqueezeExciteSpec {
    /// `C -> C / r`.
    pub reduce: ConvConfig,
    /// `C / r -> C`.
    pub expand: ConvConfig,
    /// The hard-sigmoid's slope.
    pub slope: f64,
}

impl SqueezeExciteSpec {
    fn of(se: &SqueezeExcite) -> Self {
        SqueezeExciteSpec {
            reduce: ConvConfig::of(&se.reduce),
            expand: ConvConfig::of(&se.expand),
            slope: se.slope,
        }
    }

    fn init(&self, device: &Device) -> SqueezeExcite {
        SqueezeExcite {
            reduce: self.reduce.init(device),
            expand: self.expand.init(device),
            slope: self.slope,
        }
    }
}

/// [`LcBlock`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LcBlockSpec {
    /// Depthwise convolution.
    pub dw: RepConvSpec,
    /// Squeeze-excitation.
    pub se: Option<SqueezeExciteSpec>,
    /// Pointwise convolution.
    pub pw: RepConvSpec,
}

/// [`LcNetV3`], the backbone of both networks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LcNetV3Config {
    /// Stem convolution.
    pub stem: ConvConfig,
    /// Its batch norm.
    pub stem_bn: BatchNormSpec,
    /// The blocks.
    pub blocks: Vec<LcBlockSpec>,
    /// Detection's output convolutions (empty for the recognizer).
    pub outs: Vec<ConvConfig>,
}

impl LcNetV3Config {
    /// The config of `net`.
    pub fn of(net: &LcNetV3) -> Self {
        LcNetV3Config {
            stem: ConvConfig::of(&net.stem),
            stem_bn: BatchNormSpec::of(&net.stem_bn),
            blocks: net
                .blocks
                .iter()
                .map(|b| LcBlockSpec {
                    dw: RepConvSpec::of(&b.dw),
                    se: b.se.as_ref().map(SqueezeExciteSpec::of),
                    pw: RepConvSpec::of(&b.pw),
                })
                .collect(),
            outs: net.outs.iter().map(ConvConfig::of).collect(),
        }
    }

    /// The backbone.
    pub fn init(&self, device: &Device) -> LcNetV3 {
        LcNetV3 {
            stem: self.stem.init(device),
            stem_bn: self.stem_bn.init(device),
            blocks: self
                .blocks
                .iter()
                .map(|b| LcBlock {
                    dw: b.dw.init(device),
                    se: b.se.as_ref().map(|s| s.init(device)),
                    pw: b.pw.init(device),
                })
                .collect(),
            outs: self.outs.iter().map(|c| c.init(device)).collect(),
        }
    }
}

/// PP-OCRv6's stem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HgStemSpec {
    /// The five convolutions, in order.
    pub convs: [ConvConfig; 5],
}

/// One PP-OCRv6 block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepVitBlockSpec {
    /// Depthwise conv.
    pub dw: ConvConfig,
    /// Squeeze-excitation.
    pub se: Option<SqueezeExciteSpec>,
    /// Expand.
    pub expand: ConvConfig,
    /// Project.
    pub project: ConvConfig,
    /// Residual.
    pub residual: bool,
}

/// PP-OCRv6's backbone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepVitConfig {
    /// The stem.
    pub stem: HgStemSpec,
    /// The blocks.
    pub blocks: Vec<RepVitBlockSpec>,
}

impl RepVitConfig {
    /// The config of `net`.
    pub fn of(net: &RepVitNet) -> Self {
        let st = &net.stem;
        RepVitConfig {
            stem: HgStemSpec {
                convs: [&st.stem1, &st.stem2a, &st.stem2b, &st.stem3, &st.stem4]
                    .map(ConvConfig::of),
            },
            blocks: net
                .blocks
                .iter()
                .map(|b| RepVitBlockSpec {
                    dw: ConvConfig::of(&b.dw),
                    se: b.se.as_ref().map(SqueezeExciteSpec::of),
                    expand: ConvConfig::of(&b.expand),
                    project: ConvConfig::of(&b.project),
                    residual: b.residual,
                })
                .collect(),
        }
    }

    /// The network (placeholder weights).
    pub fn init(&self, device: &Device) -> RepVitNet {
        let [stem1, stem2a, stem2b, stem3, stem4] =
            self.stem.convs.each_ref().map(|c| c.init(device));
        RepVitNet {
            stem: HgStem {
                stem1,
                stem2a,
                stem2b,
                stem3,
                stem4,
            },
            blocks: self
                .blocks
                .iter()
                .map(|b| RepVitBlock {
                    dw: b.dw.init(device),
                    se: b.se.as_ref().map(|s| s.init(device)),
                    expand: b.expand.init(device),
                    project: b.project.init(device),
                    residual: b.residual,
                })
                .collect(),
        }
    }
}

/// Either backbone (untagged in `config.json`: a PP-OCRv4 file reads as before).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[allow(
    clippy::large_enum_variant,
    reason = "one per network, built once: the size difference costs nothing"
)]
pub enum BackboneConfig {
    /// PPLCNetV3.
    LcNetV3(LcNetV3Config),
    /// PP-OCRv6's.
    RepVit(RepVitConfig),
}

impl BackboneConfig {
    /// The config of `b`.
    pub fn of(b: &Backbone) -> Self {
        match b {
            Backbone::LcNetV3(n) => BackboneConfig::LcNetV3(LcNetV3Config::of(n)),
            Backbone::RepVit(n) => BackboneConfig::RepVit(RepVitConfig::of(n)),
        }
    }

    /// The backbone (placeholder weights).
    pub fn init(&self, device: &Device) -> Backbone {
        match self {
            BackboneConfig::LcNetV3(c) => Backbone::LcNetV3(c.init(device)),
            BackboneConfig::RepVit(c) => Backbone::RepVit(c.init(device)),
        }
    }
}

/// [`RseLayer`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RseLayerSpec {
    /// PP-OCRv6's depthwise convolution before `conv`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dw: Option<ConvConfig>,
    /// The convolution.
    pub conv: ConvConfig,
    /// Its squeeze-excitation.
    pub se: SqueezeExciteSpec,
}

/// [`DbHead`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbHeadConfig {
    /// `3 x 3` convolution.
    pub conv: ConvConfig,
    /// Its batch norm.
    #[serde(default)]
    pub bn1: Option<BatchNormSpec>,
    /// First upsampling.
    pub up1: ConvTransposeConfig,
    /// Its batch norm.
    #[serde(default)]
    pub bn2: Option<BatchNormSpec>,
    /// Second upsampling.
    pub up2: ConvTransposeConfig,
}

/// The detector's architecture: `DbNetConfig::of(&det).init(device)` builds the same
/// network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbNetConfig {
    /// PPLCNetV3.
    pub backbone: BackboneConfig,
    /// RSE-FPN lateral layers.
    pub lateral: Vec<RseLayerSpec>,
    /// RSE-FPN output layers.
    pub output: Vec<RseLayerSpec>,
    /// DB head.
    pub head: DbHeadConfig,
}

impl DbNetConfig {
    /// The config of `net`.
    pub fn of(net: &DbNet) -> Self {
        let rse = |l: &RseLayer| RseLayerSpec {
            dw: l.dw.as_ref().map(ConvConfig::of),
            conv: ConvConfig::of(&l.conv),
            se: SqueezeExciteSpec::of(&l.se),
        };
        let h = &net.head;
        DbNetConfig {
            backbone: BackboneConfig::of(&net.backbone),
            lateral: net.neck.lateral.iter().map(rse).collect(),
            output: net.neck.output.iter().map(rse).collect(),
            head: DbHeadConfig {
                conv: ConvConfig::of(&h.conv),
                bn1: h.bn1.as_ref().map(BatchNormSpec::of),
                up1: ConvTransposeConfig::of(&h.up1),
                bn2: h.bn2.as_ref().map(BatchNormSpec::of),
                up2: ConvTransposeConfig::of(&h.up2),
            },
        }
    }

    /// The detector, its weights placeholders until loaded.
    pub fn init(&self, device: &Device) -> DbNet {
        let rse = |s: &RseLayerSpec| RseLayer {
            dw: s.dw.as_ref().map(|c| c.init(device)),
            conv: s.conv.init(device),
            se: s.se.init(device),
        };
        let h = &self.head;
        DbNet {
            backbone: self.backbone.init(device),
            neck: RseFpn {
                lateral: self.lateral.iter().map(rse).collect(),
                output: self.output.iter().map(rse).collect(),
            },
            head: DbHead {
                conv: h.conv.init(device),
                bn1: h.bn1.as_ref().map(|b| b.init(device)),
                up1: h.up1.init(device),
                bn2: h.bn2.as_ref().map(|b| b.init(device)),
                up2: h.up2.init(device),
            },
        }
    }
}
