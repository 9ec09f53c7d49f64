//! LoRA adapters, PEFT's math and files: `y = W x + s * B(A(dropout(x)))`.
//!
//! - [`LoraConfig`]: PEFT's `adapter_config.json` (rank, alpha, dropout, rsLoRA, init,
//!   `target_modules` by name or regular expression, `layers_to_transform`), matched
//!   against module paths by PEFT's rules.
//! - [`LoraLinear`]: a linear layer carrying named adapters over a float base or one
//!   kept quantised in a ggml format (QLoRA on a CPU); one adapter active at a time, or
//!   none for the base model's own output; merge and unmerge.
//! - A model made of such layers implements [`LoraModel`] (a list of its layers by
//!   path); then [`add_adapter`], [`set_adapter`], [`merge`] / [`unmerge`] and the
//!   files: [`save_peft`] / [`load_peft`] (`adapter_config.json` +
//!   `adapter_model.safetensors`, PEFT's key names and layouts) and [`save_gguf`] /
//!   [`load_gguf`] (llama.cpp's GGUF LoRA adapters).
//!
//! Why not burn's `apply_lora`: it composes `W + scale * (a @ b)` as a weight (no
//! dropout on the adapter's input is possible then), starts `A` from `N(0, 1/r)` where
//! PEFT uses kaiming-uniform, has no rsLoRA, and adapts every rank-2 parameter,
//! embeddings included, unless told otherwise. Here the adapter runs on the activations,
//! as PEFT's does (cheaper too: `r * (in + out)` per row instead of a dense `in * out`
//! weight per step).
//!
//! ```
//! use whet_core::burn::tensor::{Device, Tensor};
//! use whet_core::lora::{self, LoraConfig, LoraLinear, LoraModel, TargetModules};
//!
//! struct Mlp { up: LoraLinear }
//! impl LoraModel for Mlp {
//!     fn lora_layers(&self) -> Vec<(String, &LoraLinear)> { vec![("mlp.up_proj".into(), &self.up)] }
//!     fn lora_layers_mut(&mut self) -> Vec<(String, &mut LoraLinear)> { vec![("mlp.up_proj".into(), &mut self.up)] }
//! }
//!
//! let device = Device::default();
//! let mut model = Mlp { up: LoraLinear::new(Tensor::ones([4, 3], &device), None) };
//! let config = LoraConfig::new(2, 4.0, TargetModules::Names(vec!["up_proj".into()]));
//! assert_eq!(lora::add_adapter(&mut model, "receipts", &config, &device)?, 1);
//! lora::set_adapter(&mut model, None)?; // the base model's own output
//! # Ok::<(), whet_core::Error>(())
//! ```

mod config;
mod files;
mod linear;

pub use config::{LayerIndexes, LoraConfig, LoraInit, TargetModules};
pub use files::{load_gguf, load_peft, save_gguf, save_peft};
pub use linear::{BaseWeight, LoraAdapter, LoraLinear};

use burn::tensor::{Device, Tensor};

use crate::error::{Error, Result};

/// A model whose linear layers are [`LoraLinear`]s, listed by their module paths (the
/// Hugging Face names, `model.layers.0.self_attn.q_proj`, which PEFT's keys are made of).
pub trait LoraModel {
    /// Every adaptable layer with its path.
    fn lora_layers(&self) -> Vec<(String, &LoraLinear)>;

    /// Every adaptable layer with its path, mutably.
    fn lora_layers_mut(&mut self) -> Vec<(String, &mut LoraLinear)>;

    /// The GGUF architecture (`general.architecture`) of the model, for GGUF adapters.
    fn gguf_architecture(&self) -> Option<String> {
        None
    }

    /// The GGUF name of the base tensor of the layer at `path` (`blk.0.attn_q.weight`);
    /// `None`: the layer cannot be written to a GGUF adapter.
    fn gguf_tensor_name(&self, path: &str) -> Option<String> {
        let _ = path;
        None
    }

    /// The GGUF form of `B` (`[r, out]`) of the layer at `path`: where a converter
    /// reorders a base weight's output rows (llama.cpp permutes the query and key
    /// projections of Llama models), `B`'s columns follow. Identity by default.
    fn gguf_lora_b(&self, path: &str, b: Tensor<2>, to_gguf: bool) -> Tensor<2> {
        let _ = (path, to_gguf);
        b
    }
}

/// Adds adapter `name` to every layer `config` targets, trainable, and makes it active.
/// Returns how many layers it adapts.
///
/// # Errors
/// [`Error::Config`] for a config PEFT would compute differently ([`LoraConfig::validate`])
/// or an invalid pattern; [`Error::Lora`] when it targets no layer or a layer already has
/// an adapter of that name.
pub fn add_adapter(
    model: &mut impl LoraModel,
    name: &str,
    config: &LoraConfig,
    device: &Device,
) -> Result<usize> {
    config.validate()?;
    let mut n = 0;
    for (path, layer) in model.lora_layers_mut() {
        if config.matches(&path)? {
            layer.add_adapter(name, config, device)?;
            n += 1;
        }
    }
    if n == 0 {
        return Err(Error::Lora {
            adapter: name.into(),
            reason: format!(
                "target_modules {:?} match no layer of the model",
                config.target_modules
            ),
        });
    }
    tracing::info!(
        adapter = name,
        layers = n,
        r = config.r,
        "added LoRA adapter"
    );
    Ok(n)
}

/// Makes `name` the active adapter of every layer that has it, and turns adapters off
/// everywhere else; `None`: the base model's own output. Switching costs nothing: the
/// base weights are not touched (a merged adapter is unmerged).
///
/// # Errors
/// [`Error::Lora`] when no layer has an adapter called `name`.
pub fn set_adapter(model: &mut impl LoraModel, name: Option<&str>) -> Result<()> {
    let mut found = name.is_none();
    for (_, layer) in model.lora_layers_mut() {
        let has = name.is_some_and(|n| layer.adapter(n).is_some());
        found |= has;
        layer.set_active(if has { name } else { None })?;
    }
    if !found {
        return Err(Error::Lora {
            adapter: name.unwrap_or_default().into(),
            reason: "no layer has an adapter of that name".into(),
        });
    }
    Ok(())
}

/// The names of the adapters the model carries.
pub fn adapter_names(model: &impl LoraModel) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (_, layer) in model.lora_layers() {
        for n in layer.adapter_names() {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
    }
    names
}

/// Merges the active adapter into every layer's base weight ([`LoraLinear::merge`]).
pub fn merge(model: &mut impl LoraModel) {
    for (_, layer) in model.lora_layers_mut() {
        layer.merge();
    }
}

/// Takes merged adapters back out ([`LoraLinear::unmerge`]).
pub fn unmerge(model: &mut impl LoraModel) {
    for (_, layer) in model.lora_layers_mut() {
        layer.unmerge();
    }
}

/// Removes adapter `name` from every layer; returns how many had it.
pub fn remove_adapter(model: &mut impl LoraModel, name: &str) -> usize {
    model
        .lora_layers_mut()
        .into_iter()
        .filter_map(|(_, l)| l.remove(name))
        .count()
}
