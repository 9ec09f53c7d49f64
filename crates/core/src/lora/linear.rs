//! `LoraLinear`: a linear layer that carries named LoRA adapters over a float or packed
//! base weight.

use burn::module::{Module, Param};
use burn::nn::{Dropout, DropoutConfig};
use burn::tensor::{Device, Distribution, Tensor};

use super::LoraConfig;
use super::config::LoraInit;
use crate::error::{Error, Result};
use crate::quant::{GgmlType, PackedMatrix};

/// One adapter of one layer: `scale * dropout(x) A^T B^T`.
#[derive(Module, Debug)]
pub struct LoraAdapter {
    /// `A`, stored `[in, r]` (PEFT's `lora_A.weight` transposed).
    pub a: Param<Tensor<2>>,
    /// `B`, stored `[r, out]` (PEFT's `lora_B.weight` transposed).
    pub b: Param<Tensor<2>>,
    /// Dropout on the adapter's input, active only while training.
    pub dropout: Dropout,
    /// `alpha / r` (or `alpha / sqrt(r)`).
    #[module(skip)]
    pub scale: f64,
    /// The settings it was made with (written to its `adapter_config.json`).
    #[module(skip)]
    pub config: LoraConfig,
}

impl LoraAdapter {
    /// `[..., in] -> [..., out]`: the adapter's contribution.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let x = self.dropout.forward(x);
        let a = self.a.val().unsqueeze::<D>();
        let b = self.b.val().unsqueeze::<D>();
        x.matmul(a).matmul(b).mul_scalar(self.scale)
    }

    /// `scale * A^T B^T`, `[in, out]`: what merging adds to the base weight.
    pub fn delta(&self) -> Tensor<2> {
        self.a.val().matmul(self.b.val()).mul_scalar(self.scale)
    }

    /// Rank.
    pub fn rank(&self) -> usize {
        self.a.dims()[1]
    }
}

/// `x W^T + b` on the CPU straight from the packed blocks ([`PackedMatrix::matmul`]:
/// llama.cpp's arithmetic, a sixth of the memory traffic of floats for Q4_1). Inference
/// only: the product leaves burn's graph, so training (an autodiff device) decodes instead.
fn packed_product<const D: usize>(
    p: &PackedMatrix,
    x: Tensor<D>,
    bias: Option<Tensor<1>>,
) -> Tensor<D> {
    let device = x.device();
    let mut dims = x.dims();
    let cols = dims[D - 1];
    let m = dims[..D - 1].iter().product();
    let values = x
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("float activations");
    let y = p
        .matmul(&values, m)
        .expect("the activations are [m, cols] by construction");
    dims[D - 1] = p.dims()[0];
    debug_assert_eq!(cols, p.dims()[1]);
    let y = Tensor::<D>::from_data(burn::tensor::TensorData::new(y, dims), &device);
    match bias {
        Some(b) => y + b.unsqueeze::<D>(),
        None => y,
    }
}

/// The base weight of a [`LoraLinear`].
#[derive(Debug, Clone)]
pub enum BaseWeight {
    /// Floats, `[in, out]`, frozen once an adapter is added.
    Float(Param<Tensor<2>>),
    /// Kept in a ggml block format, `[out, in]` as GGUF stores it; decoded where used.
    Packed(PackedMatrix),
}

/// A linear layer `y = x W + b` (`[..., in] -> [..., out]`) that carries LoRA adapters by
/// name, any one of them active at a time or none (the base model's own output). The
/// base weight may stay quantised ([`LoraLinear::quantize_base`]): adapters train over it
/// in full precision (QLoRA), and it is decoded only for the product.
///
/// Models built from these layers expose them through [`LoraModel`](super::LoraModel),
/// and [`add_adapter`](super::add_adapter) and friends work on the whole model.
#[derive(Module, Debug)]
pub struct LoraLinear {
    weight: Option<Param<Tensor<2>>>,
    #[module(skip)]
    packed: Option<PackedMatrix>,
    /// Bias, `[out]`.
    pub bias: Option<Param<Tensor<1>>>,
    /// The adapters, in the order they were added.
    pub adapters: Vec<LoraAdapter>,
    #[module(skip)]
    names: Vec<String>,
    #[module(skip)]
    active: Option<usize>,
    #[module(skip)]
    merged: Option<usize>,
}

impl LoraLinear {
    /// A layer with float weight `[in, out]`.
    pub fn new(weight: Tensor<2>, bias: Option<Tensor<1>>) -> Self {
        LoraLinear {
            weight: Some(Param::from_tensor(weight)),
            ..Self::new_empty(bias)
        }
    }

    /// A layer whose weight stays packed: `weight` is `[out, in]` as GGUF stores it.
    pub fn packed(weight: PackedMatrix, bias: Option<Tensor<1>>) -> Self {
        LoraLinear {
            packed: Some(weight),
            ..Self::new_empty(bias)
        }
    }

    fn new_empty(bias: Option<Tensor<1>>) -> Self {
        LoraLinear {
            weight: None,
            packed: None,
            bias: bias.map(Param::from_tensor),
            adapters: Vec::new(),
            names: Vec::new(),
            active: None,
            merged: None,
        }
    }

    /// `[in, out]`.
    pub fn dims(&self) -> [usize; 2] {
        match (&self.weight, &self.packed) {
            (Some(w), _) => w.dims(),
            (None, Some(p)) => {
                let [out, inp] = p.dims();
                [inp, out]
            }
            (None, None) => unreachable!("a LoraLinear has a base weight"),
        }
    }

    /// The base weight.
    pub fn base(&self) -> BaseWeight {
        match (&self.weight, &self.packed) {
            (Some(w), _) => BaseWeight::Float(w.clone()),
            (None, Some(p)) => BaseWeight::Packed(p.clone()),
            (None, None) => unreachable!("a LoraLinear has a base weight"),
        }
    }

    /// The base weight as floats `[in, out]` on `device` (decoded when packed), without
    /// any adapter merged into it.
    pub fn base_weight(&self, device: &Device) -> Tensor<2> {
        let w = match (&self.weight, &self.packed) {
            (Some(w), _) => w.val(),
            (None, Some(p)) => p.to_tensor_transposed(device),
            (None, None) => unreachable!("a LoraLinear has a base weight"),
        };
        match self.merged {
            Some(i) => w - self.adapters[i].delta(),
            None => w,
        }
    }

    /// The weight the layer computes with, `[in, out]`: the base plus the active
    /// adapter's `scale * A^T B^T` (what a merged model stores).
    pub fn effective_weight(&self, device: &Device) -> Tensor<2> {
        let w = self.base_weight(device);
        match self.active {
            Some(i) => w + self.adapters[i].delta(),
            None => w,
        }
    }

    /// Stores the base weight in `ty` (Q8_0, Q4_0, Q4_1...), as ggml quantises it; it then
    /// stays packed, and adapters train over it.
    ///
    /// # Errors
    /// As [`PackedMatrix::quantize`] (`in` must be a whole number of blocks); a layer
    /// with an adapter merged must be unmerged first.
    pub fn quantize_base(mut self, ty: GgmlType) -> Result<Self> {
        if self.merged.is_some() {
            return Err(self.refuse("quantising a merged base; unmerge first"));
        }
        let Some(w) = self.weight.take() else {
            return Ok(self);
        };
        let [inp, out] = w.dims();
        let values: Vec<f32> = w
            .val()
            .transpose()
            .into_data()
            .try_into_vec::<f32>()
            .map_err(|e| Error::Readback {
                what: "a base weight",
                reason: format!("{e:?}"),
            })?;
        self.packed = Some(PackedMatrix::quantize(ty, out, inp, &values)?);
        Ok(self)
    }

    fn refuse(&self, reason: &str) -> Error {
        Error::Lora {
            adapter: self.names.join(", "),
            reason: reason.into(),
        }
    }

    /// `[..., in] -> [..., out]`: the base layer plus the active adapter.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let device = x.device();
        let bias = self.bias.as_ref().map(|b| b.val());
        let mut y = match (&self.weight, &self.packed) {
            (Some(w), _) => burn::tensor::module::linear(x.clone(), w.val(), bias),
            (None, Some(p)) if !device.is_autodiff() && device.clone() == Device::flex() => {
                packed_product(p, x.clone(), bias)
            }
            (None, Some(p)) => {
                burn::tensor::module::linear(x.clone(), p.to_tensor_transposed(&device), bias)
            }
            (None, None) => unreachable!("a LoraLinear has a base weight"),
        };
        if let Some(i) = self.active
            && self.merged != Some(i)
        {
            y = y + self.adapters[i].forward(x);
        }
        y
    }

    /// Names of the adapters, in the order they were added.
    pub fn adapter_names(&self) -> &[String] {
        &self.names
    }

    /// The adapter called `name`.
    pub fn adapter(&self, name: &str) -> Option<&LoraAdapter> {
        self.index(name).map(|i| &self.adapters[i])
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The active adapter's name (`None`: the base layer alone).
    pub fn active(&self) -> Option<&str> {
        self.active.map(|i| self.names[i].as_str())
    }

    /// Adds a trainable adapter `name` initialised as `config` says (PEFT's init: `A`
    /// kaiming-uniform or gaussian, `B` zeros), freezes the base, and makes it active.
    ///
    /// # Errors
    /// [`Error::Lora`] when the layer already has an adapter of that name.
    pub fn add_adapter(&mut self, name: &str, config: &LoraConfig, device: &Device) -> Result<()> {
        let [inp, out] = self.dims();
        let r = config.r;
        let a = match config.init_lora_weights {
            LoraInit::Gaussian => {
                Tensor::random([inp, r], Distribution::Normal(0.0, 1.0 / r as f64), device)
            }
            LoraInit::KaimingUniform | LoraInit::Random => {
                let bound = 1.0 / (inp as f64).sqrt();
                Tensor::random([inp, r], Distribution::Uniform(-bound, bound), device)
            }
        };
        let b = match config.init_lora_weights {
            LoraInit::Random => {
                let bound = 1.0 / (r as f64).sqrt();
                Tensor::random([r, out], Distribution::Uniform(-bound, bound), device)
            }
            _ => Tensor::zeros([r, out], device),
        };
        self.insert(name, a, b, config)
    }

    /// Adds adapter `name` with the given factors, `a` `[in, r]` and `b` `[r, out]` (PEFT's
    /// `lora_A.weight` and `lora_B.weight`, transposed), and makes it active.
    ///
    /// # Errors
    /// [`Error::Lora`] for a duplicate name or factors whose shapes do not fit the layer
    /// or `config.r`.
    pub fn insert(
        &mut self,
        name: &str,
        a: Tensor<2>,
        b: Tensor<2>,
        config: &LoraConfig,
    ) -> Result<()> {
        let [inp, out] = self.dims();
        if self.index(name).is_some() {
            return Err(Error::Lora {
                adapter: name.into(),
                reason: "the layer already has an adapter of that name".into(),
            });
        }
        let expected = ([inp, config.r], [config.r, out]);
        if (a.dims(), b.dims()) != expected {
            return Err(Error::Lora {
                adapter: name.into(),
                reason: format!(
                    "factors {:?} and {:?} do not fit a layer [{inp}, {out}] at rank {}",
                    a.dims(),
                    b.dims(),
                    config.r
                ),
            });
        }
        if let Some(w) = self.weight.take() {
            self.weight = Some(w.set_require_grad(false));
        }
        if let Some(bias) = self.bias.take() {
            self.bias = Some(bias.set_require_grad(false));
        }
        self.adapters.push(LoraAdapter {
            a: Param::from_tensor(a),
            b: Param::from_tensor(b),
            dropout: DropoutConfig::new(config.lora_dropout).init(),
            scale: config.scaling(),
            config: config.clone(),
        });
        self.names.push(name.into());
        self.active = Some(self.adapters.len() - 1);
        Ok(())
    }

    /// Makes `name` the active adapter, or none (`None`: the base layer's own output).
    /// A merged adapter that stops being active is unmerged first.
    ///
    /// # Errors
    /// [`Error::Lora`] when the layer has no adapter of that name.
    pub fn set_active(&mut self, name: Option<&str>) -> Result<()> {
        let next = match name {
            None => None,
            Some(n) => Some(self.index(n).ok_or_else(|| Error::Lora {
                adapter: n.into(),
                reason: "the layer has no adapter of that name".into(),
            })?),
        };
        if self.merged.is_some() && self.merged != next {
            self.unmerge();
        }
        self.active = next;
        Ok(())
    }

    /// Removes adapter `name` (unmerging it first), and returns it.
    pub fn remove(&mut self, name: &str) -> Option<LoraAdapter> {
        let i = self.index(name)?;
        if self.merged == Some(i) {
            self.unmerge();
        }
        self.names.remove(i);
        let adapter = self.adapters.remove(i);
        let shift = |j: Option<usize>| j.filter(|&j| j != i).map(|j| if j > i { j - 1 } else { j });
        self.active = shift(self.active);
        self.merged = shift(self.merged);
        Some(adapter)
    }

    /// Adds the active adapter into a float base weight (`W += scale * A^T B^T`), so the
    /// forward pass costs what the base layer does; [`LoraLinear::unmerge`] takes it out.
    /// A packed base becomes float (merging into ggml blocks would lose the adapter to
    /// rounding).
    pub fn merge(&mut self) {
        let Some(i) = self.active else { return };
        if self.merged.is_some() {
            return;
        }
        let device = self.adapters[i].a.device();
        let w = self.base_weight(&device) + self.adapters[i].delta();
        self.weight = Some(Param::from_tensor(w).set_require_grad(false));
        self.packed = None;
        self.merged = Some(i);
    }

    /// Takes the merged adapter back out of the base weight.
    pub fn unmerge(&mut self) {
        let Some(i) = self.merged.take() else { return };
        if let Some(w) = self.weight.take() {
            let w = w.val() - self.adapters[i].delta();
            self.weight = Some(Param::from_tensor(w).set_require_grad(false));
        }
    }

    /// Whether an adapter is merged into the base weight.
    pub fn is_merged(&self) -> bool {
        self.merged.is_some()
    }
}
