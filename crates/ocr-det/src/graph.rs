//! Reads a PP-OCR ONNX graph in order and hands its weights to the burn layers that
//! mirror it: each builder consumes the nodes one layer is made of (a `Conv`, a learnable
//! scale and bias, a hard-swish, a squeeze-excitation block, ...) and refuses, with an
//! [`Error::Weights`] naming the node, a graph of another shape. This is the weight-mapping
//! table in code: the crate README lists the resulting correspondence.

use burn::module::Param;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::{Device, Tensor, TensorData};

use crate::error::{Error, Result};
use crate::onnx::{OnnxModel, OnnxNode};

/// The graph's computing nodes (`Constant` nodes are the weights), read front to back.
pub(crate) struct Cursor<'a> {
    model: &'a OnnxModel,
    nodes: Vec<&'a OnnxNode>,
    /// `Identity` outputs and what they pass on (newer exports route every weight
    /// through one).
    alias: std::collections::HashMap<&'a str, &'a str>,
    at: usize,
    device: Device,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(model: &'a OnnxModel, device: &Device) -> Self {
        let alias = model
            .nodes
            .iter()
            .filter(|n| n.op_type == "Identity" && n.inputs.len() == 1 && n.outputs.len() == 1)
            .map(|n| (n.outputs[0].as_str(), n.inputs[0].as_str()))
            .collect();
        Cursor {
            model,
            nodes: model
                .nodes
                .iter()
                .filter(|n| n.op_type != "Constant" && n.op_type != "Identity")
                .collect(),
            alias,
            at: 0,
            device: device.clone(),
        }
    }

    pub(crate) fn fail(&self, reason: impl Into<String>) -> Error {
        let node = self.nodes.get(self.at).map_or_else(
            || "the end of the graph".to_owned(),
            |n| format!("node {} ({})", n.name, n.op_type),
        );
        Error::weights(&self.model.path, format!("at {node}: {}", reason.into()))
    }

    /// The next node, which must be `op`.
    pub(crate) fn expect(&mut self, op: &str) -> Result<&'a OnnxNode> {
        match self.nodes.get(self.at) {
            Some(n) if n.op_type == op => {
                self.at += 1;
                Ok(n)
            }
            _ => Err(self.fail(format!("expected {op}: not the PP-OCR architecture"))),
        }
    }

    /// Whether the next node is `op`.
    pub(crate) fn next_is(&self, op: &str) -> bool {
        self.nodes.get(self.at).is_some_and(|n| n.op_type == op)
    }

    /// Whether the next nodes are `ops`, in order.
    pub(crate) fn next_are(&self, ops: &[&str]) -> bool {
        ops.iter().enumerate().all(|(i, op)| {
            self.nodes
                .get(self.at + i)
                .is_some_and(|n| n.op_type == *op)
        })
    }

    /// Whether every node has been consumed.
    pub(crate) fn finished(&self) -> bool {
        self.at == self.nodes.len()
    }

    /// The value an `Identity` chain passes on as `name`.
    fn resolve<'n>(&self, mut name: &'n str) -> &'n str
    where
        'a: 'n,
    {
        for _ in 0..64 {
            match self.alias.get(name) {
                Some(&up) => name = up,
                None => break,
            }
        }
        name
    }

    /// The stored tensor a node input names, through `Identity` nodes.
    fn stored(&self, name: &str) -> Option<&'a crate::onnx::OnnxTensor> {
        self.model.tensors.get(self.resolve(name))
    }

    fn tensor<const D: usize>(&self, name: &str) -> Result<(Tensor<D>, Vec<usize>)> {
        let name = self.resolve(name);
        let (dims, values) = self.model.f32(name)?;
        let t = Tensor::<1>::from_data(
            TensorData::new(values.to_vec(), [values.len()]),
            &self.device,
        );
        let shape: [usize; D] = match D {
            1 => std::array::from_fn(|_| values.len()),
            _ => dims
                .try_into()
                .map_err(|_| self.fail(format!("{name} has shape {dims:?}, not rank {D}")))?,
        };
        Ok((t.reshape(shape), dims.to_vec()))
    }

    /// The name of the node input that is a stored tensor (its weight).
    fn stored_input(&self, node: &OnnxNode, what: &str) -> Result<&'a str> {
        let model = self.model;
        node.inputs
            .iter()
            .find_map(|i| {
                model
                    .tensors
                    .get_key_value(self.resolve(i))
                    .map(|(k, _)| k.as_str())
            })
            .ok_or_else(|| self.fail(format!("{} without {what}", node.op_type)))
    }

    /// A scalar weight (a one-element tensor), as a parameter.
    fn scalar(&self, name: &str) -> Result<Param<Tensor<1>>> {
        let (t, dims) = self.tensor::<1>(name)?;
        if dims.iter().product::<usize>() != 1 {
            return Err(self.fail(format!("{name} should hold one value, has shape {dims:?}")));
        }
        Ok(Param::from_tensor(t.detach()))
    }

    /// A `Conv` node as a burn [`Conv2d`] (bias when the node has one).
    pub(crate) fn conv(&mut self) -> Result<Conv2d> {
        let n = self.expect("Conv")?;
        let (weight, dims) = self.tensor::<4>(
            n.inputs
                .get(1)
                .ok_or_else(|| self.fail("Conv without weight"))?,
        )?;
        let groups = n.int("group", 1) as usize;
        let k = n.ints("kernel_shape", &[dims[2] as i64, dims[3] as i64]);
        let s = n.ints("strides", &[1, 1]);
        let d = n.ints("dilations", &[1, 1]);
        let p = match n.attributes.get("auto_pad") {
            Some(crate::onnx::Attribute::Bytes(b)) if b.as_slice() == b"SAME_UPPER" => {
                // Stride 1 only: the total padding k - 1, the odd pixel at the end.
                if s.iter().any(|&v| v != 1) || d.iter().any(|&v| v != 1) {
                    return Err(self.fail("SAME_UPPER padding with stride or dilation"));
                }
                let total = |i: usize| k.get(i).copied().unwrap_or(1) - 1;
                vec![
                    total(0) / 2,
                    total(1) / 2,
                    total(0) - total(0) / 2,
                    total(1) - total(1) / 2,
                ]
            }
            Some(crate::onnx::Attribute::Bytes(b))
                if !b.is_empty() && b.as_slice() != b"NOTSET" =>
            {
                return Err(self.fail(format!(
                    "auto_pad {} is not supported",
                    String::from_utf8_lossy(b)
                )));
            }
            _ => n.ints("pads", &[0, 0, 0, 0]),
        };
        let to = |v: &[i64], i: usize| v.get(i).copied().unwrap_or(0).max(0) as usize;
        let mut conv = Conv2dConfig::new([dims[1] * groups, dims[0]], [to(&k, 0), to(&k, 1)])
            .with_stride([to(&s, 0), to(&s, 1)])
            .with_dilation([to(&d, 0), to(&d, 1)])
            .with_groups(groups)
            // ONNX pads are (top, left, bottom, right).
            .with_padding(PaddingConfig2d::Explicit(
                to(&p, 0),
                to(&p, 1),
                to(&p, 2),
                to(&p, 3),
            ))
            .with_bias(n.inputs.len() > 2)
            .init(&self.device);
        conv.weight = Param::from_tensor(weight.detach());
        if let Some(b) = n.inputs.get(2) {
            conv.bias = Some(Param::from_tensor(self.tensor::<1>(b)?.0.detach()));
        } else if let Some(bias) = self.channel_bias(dims[0]) {
            // Newer exports add the bias in a separate node: a stored `[1, C, 1, 1]`.
            let (b, _) = self.tensor::<4>(bias)?;
            self.at += 1;
            conv.bias = Some(Param::from_tensor(b.reshape([dims[0]]).detach()));
        }
        Ok(conv)
    }

    /// When the next node is an `Add` of a stored `[1, channels, 1, 1]` tensor (a
    /// convolution's bias written apart), that tensor's name.
    fn channel_bias(&self, channels: usize) -> Option<&'a str> {
        let n = self.nodes.get(self.at).filter(|n| n.op_type == "Add")?;
        n.inputs.iter().find_map(|i| {
            let name = self.resolve(i);
            self.model
                .tensors
                .get_key_value(name)
                .filter(|(_, t)| t.dims == [1, channels, 1, 1])
                .map(|(k, _)| k.as_str())
        })
    }

    /// A `ConvTranspose` node followed by the `Add` of its bias (paddle2onnx writes the
    /// bias as a separate addition).
    pub(crate) fn conv_transpose_with_bias(&mut self) -> Result<ConvTranspose2d> {
        let n = self.expect("ConvTranspose")?;
        let (weight, dims) = self.tensor::<4>(
            n.inputs
                .get(1)
                .ok_or_else(|| self.fail("ConvTranspose without weight"))?,
        )?;
        let k = n.ints("kernel_shape", &[dims[2] as i64, dims[3] as i64]);
        let s = n.ints("strides", &[1, 1]);
        let p = n.ints("pads", &[0, 0, 0, 0]);
        let to = |v: &[i64], i: usize| v.get(i).copied().unwrap_or(0).max(0) as usize;
        if n.int("group", 1) != 1 {
            return Err(self.fail("grouped ConvTranspose"));
        }
        let mut conv = ConvTranspose2dConfig::new([dims[0], dims[1]], [to(&k, 0), to(&k, 1)])
            .with_stride([to(&s, 0), to(&s, 1)])
            .with_padding([to(&p, 0), to(&p, 1)])
            .with_bias(true)
            .init(&self.device);
        conv.weight = Param::from_tensor(weight.detach());
        let add = self.expect("Add")?;
        let bias_name = self.stored_input(add, "its weight")?;
        let (bias, bdims) = self.tensor::<1>(bias_name)?;
        if bdims.iter().product::<usize>() != dims[1] {
            return Err(self.fail(format!(
                "bias {bias_name} of shape {bdims:?} for {} channels",
                dims[1]
            )));
        }
        conv.bias = Some(Param::from_tensor(bias.detach()));
        Ok(conv)
    }

    /// A `BatchNormalization` node as a burn [`BatchNorm`] (running statistics loaded).
    pub(crate) fn batch_norm(&mut self) -> Result<BatchNorm> {
        let n = self.expect("BatchNormalization")?;
        if n.inputs.len() != 5 {
            return Err(self.fail("BatchNormalization without its four tensors"));
        }
        let (gamma, dims) = self.tensor::<1>(&n.inputs[1])?;
        let mut bn = BatchNormConfig::new(dims[0])
            .with_epsilon(f64::from(n.float("epsilon", 1e-5)))
            .init(&self.device);
        bn.gamma = Param::from_tensor(gamma.detach());
        bn.beta = Param::from_tensor(self.tensor::<1>(&n.inputs[2])?.0.detach());
        bn.running_mean = burn::module::RunningState::new(self.tensor::<1>(&n.inputs[3])?.0);
        bn.running_var = burn::module::RunningState::new(self.tensor::<1>(&n.inputs[4])?.0);
        Ok(bn)
    }

    /// `Mul` by a scalar weight then `Add` of a scalar weight: a learnable affine block.
    pub(crate) fn affine(&mut self) -> Result<(Param<Tensor<1>>, Param<Tensor<1>>)> {
        let mut weight = |op: &str| -> Result<Param<Tensor<1>>> {
            let n = self.expect(op)?;
            let name = self.stored_input(n, "a stored scalar")?;
            self.scalar(name)
        };
        let scale = weight("Mul")?;
        let bias = weight("Add")?;
        Ok((scale, bias))
    }

    /// [`Cursor::affine`] as plain numbers (scale, bias), for folding into a convolution.
    pub(crate) fn affine_values(&mut self) -> Result<(f32, f32)> {
        let mut value = |op: &str| -> Result<f32> {
            let n = self.expect(op)?;
            self.scalar_input(n)
        };
        let scale = value("Mul")?;
        let bias = value("Add")?;
        Ok((scale, bias))
    }

    /// The four nodes of a hard-swish: `Add` 3, `Clip` 0..6, `Mul`, `Div` 6.
    pub(crate) fn hard_swish(&mut self) -> Result<()> {
        for op in ["Add", "Clip", "Mul", "Div"] {
            self.expect(op)?;
        }
        Ok(())
    }

    /// Whether a layer norm (nine nodes) starts here and, past shape plumbing, a `MatMul`
    /// follows it: a transformer block rather than the encoder's final norm.
    pub(crate) fn norm_then_attention(&self) -> bool {
        let mut at = self.at + 9;
        while self.nodes.get(at).is_some_and(|n| {
            ["Shape", "Cast", "Slice", "Concat", "Gather", "Unsqueeze"]
                .contains(&n.op_type.as_str())
        }) {
            at += 1;
        }
        self.nodes.get(at).is_some_and(|n| n.op_type == "MatMul")
    }

    /// Skips shape arithmetic and layout nodes (`Shape`, `Cast`, `Slice`, `Concat`,
    /// `Reshape`, `Transpose`, `Squeeze`, `Unsqueeze`, `Gather`): the burn modules do
    /// those steps themselves.
    pub(crate) fn skip_plumbing(&mut self) {
        const PLUMBING: [&str; 9] = [
            "Shape",
            "Cast",
            "Slice",
            "Concat",
            "Reshape",
            "Transpose",
            "Squeeze",
            "Unsqueeze",
            "Gather",
        ];
        while self
            .nodes
            .get(self.at)
            .is_some_and(|n| PLUMBING.contains(&n.op_type.as_str()))
        {
            self.at += 1;
        }
    }

    /// The scalar constant a node (`Mul`, `Add`, ...) takes as one of its inputs.
    pub(crate) fn scalar_input(&self, node: &OnnxNode) -> Result<f32> {
        node.inputs
            .iter()
            .find_map(|i| match self.stored(i) {
                Some(t) => match &t.data {
                    crate::onnx::TensorData::F32(v) if v.len() == 1 => Some(v[0]),
                    _ => None,
                },
                None => None,
            })
            .ok_or_else(|| self.fail(format!("{} without a scalar constant", node.op_type)))
    }

    /// `MatMul` by a stored `[in, out]` matrix then `Add` of a stored bias: a burn
    /// [`Linear`] (burn keeps the weight as `[in, out]` too).
    pub(crate) fn linear(&mut self) -> Result<Linear> {
        let m = self.expect("MatMul")?;
        let w_name = self.stored_input(m, "its weight")?;
        let (weight, dims) = self.tensor::<2>(w_name)?;
        let mut linear = LinearConfig::new(dims[0], dims[1]).init(&self.device);
        linear.weight = Param::from_tensor(weight.detach());
        let a = self.expect("Add")?;
        let b_name = self.stored_input(a, "its weight")?;
        linear.bias = Some(Param::from_tensor(self.tensor::<1>(b_name)?.0.detach()));
        Ok(linear)
    }

    /// Layer normalisation spelled out: `ReduceMean`, `Sub`, `Pow`, `ReduceMean`, `Add`
    /// epsilon, `Sqrt`, `Div`, `Mul` weight, `Add` bias.
    /// A layer norm and its epsilon (which burn's `LayerNorm` keeps private).
    pub(crate) fn layer_norm(&mut self) -> Result<(LayerNorm, f64)> {
        for op in ["ReduceMean", "Sub", "Pow", "ReduceMean"] {
            self.expect(op)?;
        }
        let add = self.expect("Add")?;
        let eps = self.scalar_input(add)?;
        self.expect("Sqrt")?;
        self.expect("Div")?;
        let mul = self.expect("Mul")?;
        let g_name = self.stored_input(mul, "its weight")?;
        let (gamma, dims) = self.tensor::<1>(g_name)?;
        let add = self.expect("Add")?;
        let b_name = self.stored_input(add, "its weight")?;
        let mut ln = LayerNormConfig::new(dims[0])
            .with_epsilon(f64::from(eps))
            .init(&self.device);
        ln.gamma = Param::from_tensor(gamma.detach());
        ln.beta = Some(Param::from_tensor(self.tensor::<1>(b_name)?.0.detach()));
        Ok((ln, f64::from(eps)))
    }

    /// Swish as paddle2onnx writes it: `Mul` by 1 (older exports), `Sigmoid`, `Mul`.
    pub(crate) fn swish(&mut self) -> Result<()> {
        if self.next_is("Mul") {
            self.expect("Mul")?;
        }
        for op in ["Sigmoid", "Mul"] {
            self.expect(op)?;
        }
        Ok(())
    }

    /// The exact GELU spelled out: `Div` by sqrt 2, `Erf`, `Add` 1, `Mul`, `Mul` 0.5.
    pub(crate) fn gelu(&mut self) -> Result<()> {
        for op in ["Div", "Erf", "Add", "Mul", "Mul"] {
            self.expect(op)?;
        }
        Ok(())
    }

    /// Whether the next node is a `Conv` over every channel apart (depthwise).
    pub(crate) fn next_is_depthwise(&self) -> bool {
        self.nodes.get(self.at).is_some_and(|n| {
            n.op_type == "Conv"
                && n.int("group", 1) > 1
                && n.inputs
                    .get(1)
                    .and_then(|w| self.stored(w))
                    .is_some_and(|t| {
                        t.dims.get(1) == Some(&1)
                            && t.dims.first() == Some(&(n.int("group", 1) as usize))
                    })
        })
    }

    /// The operator `k` nodes ahead (0: the next one).
    pub(crate) fn peek(&self, k: usize) -> Option<&'a str> {
        self.nodes.get(self.at + k).map(|n| n.op_type.as_str())
    }

    /// A squeeze-excitation block: `GlobalAveragePool` (or `ReduceMean` over height and
    /// width), `Conv`, `Relu`, `Conv`, `HardSigmoid` (its slope returned), `Mul`.
    pub(crate) fn squeeze_excite(&mut self) -> Result<(Conv2d, Conv2d, f64)> {
        if self.next_is("ReduceMean") {
            self.expect("ReduceMean")?;
        } else {
            self.expect("GlobalAveragePool")?;
        }
        let reduce = self.conv()?;
        self.expect("Relu")?;
        let expand = self.conv()?;
        let slope = f64::from(self.expect("HardSigmoid")?.float("alpha", 0.2));
        self.expect("Mul")?;
        Ok((reduce, expand, slope))
    }
}
