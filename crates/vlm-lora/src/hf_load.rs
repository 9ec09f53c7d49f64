//! Building a [`LlamaForCausalLM`] and its [`Tokenizer`] from a Hugging Face model
//! folder: `config.json`, `model.safetensors` (or shards listed in
//! `model.safetensors.index.json`), `tokenizer.json` and `tokenizer_config.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};
use half::{bf16, f16};
use safetensors::{Dtype, SafeTensors};
use whet_core::burn;
use whet_core::lora::LoraLinear;

use crate::config::LlamaConfig;
use crate::error::{Error, Result};
use crate::model::{LayerParts, LlamaForCausalLM, TokenEmbedding};
use crate::tokenizer::Tokenizer;

fn model_err(path: &Path, reason: impl Into<String>) -> Error {
    Error::Model {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| whet_core::Error::file(path, e).into())
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    serde_json::from_slice(&read(path)?).map_err(|e| model_err(path, e.to_string()))
}

/// The model's weights, read from one file or several shards: name -> (file, bytes).
struct Weights {
    files: Vec<(PathBuf, Vec<u8>)>,
    /// Tensor name -> index into `files`.
    index: BTreeMap<String, usize>,
}

impl Weights {
    fn open(dir: &Path) -> Result<Self> {
        let single = dir.join("model.safetensors");
        let names: Vec<PathBuf> = if single.exists() {
            vec![single]
        } else {
            let index_path = dir.join("model.safetensors.index.json");
            let index = read_json(&index_path)?;
            let map = index
                .get("weight_map")
                .and_then(|m| m.as_object())
                .ok_or_else(|| model_err(&index_path, "no weight_map"))?;
            let mut shards: Vec<PathBuf> = map
                .values()
                .filter_map(|v| v.as_str().map(|s| dir.join(s)))
                .collect();
            shards.sort();
            shards.dedup();
            shards
        };
        let mut files = Vec::new();
        let mut index = BTreeMap::new();
        for path in names {
            let bytes = read(&path)?;
            let st =
                SafeTensors::deserialize(&bytes).map_err(|e| model_err(&path, e.to_string()))?;
            for name in st.names() {
                index.insert(name.to_string(), files.len());
            }
            files.push((path, bytes));
        }
        Ok(Weights { files, index })
    }

    /// `name` as f32 values and its shape (F32, F16 or BF16 in the file).
    fn get(&self, name: &str) -> Result<(Vec<f32>, Vec<usize>)> {
        let &i = self.index.get(name).ok_or_else(|| Error::Weights {
            tensor: name.into(),
            reason: "missing from the model's safetensors".into(),
        })?;
        let (path, bytes) = &self.files[i];
        let st = SafeTensors::deserialize(bytes).map_err(|e| model_err(path, e.to_string()))?;
        let view = st
            .tensor(name)
            .map_err(|e| model_err(path, e.to_string()))?;
        let d = view.data();
        let values = match view.dtype() {
            Dtype::F32 => d
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Dtype::F16 => d
                .chunks_exact(2)
                .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            Dtype::BF16 => d
                .chunks_exact(2)
                .map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            other => {
                return Err(model_err(
                    path,
                    format!("{name}: {other:?} weights (F32, F16 and BF16 are read)"),
                ));
            }
        };
        Ok((values, view.shape().to_vec()))
    }

    /// A `[rows, cols]` matrix.
    fn matrix(&self, name: &str, shape: [usize; 2]) -> Result<Vec<f32>> {
        let (values, dims) = self.get(name)?;
        if dims != shape {
            return Err(Error::Weights {
                tensor: name.into(),
                reason: format!("{dims:?}, expected {shape:?}"),
            });
        }
        Ok(values)
    }

    /// A projection stored `[out, in]` (PyTorch's `nn.Linear`), as a layer.
    fn linear(&self, name: &str, out: usize, inp: usize, device: &Device) -> Result<LoraLinear> {
        let w = self.matrix(name, [out, inp])?;
        let mut t = vec![0f32; w.len()];
        for (o, row) in w.chunks_exact(inp).enumerate() {
            for (i, &x) in row.iter().enumerate() {
                t[i * out + o] = x;
            }
        }
        Ok(LoraLinear::new(
            Tensor::from_data(TensorData::new(t, [inp, out]), device),
            None,
        ))
    }

    fn vector(&self, name: &str, n: usize, device: &Device) -> Result<Tensor<1>> {
        let (values, dims) = self.get(name)?;
        if dims != [n] {
            return Err(Error::Weights {
                tensor: name.into(),
                reason: format!("{dims:?}, expected [{n}]"),
            });
        }
        Ok(Tensor::from_data(TensorData::new(values, [n]), device))
    }
}

/// transformers 5 writes the rotary base inside `rope_parameters` (earlier versions:
/// `rope_theta` at the top, scaling in `rope_scaling`); only unscaled rotary positions
/// are built here, so a scaling type other than `default` is refused, not ignored.
fn rope_from_parameters(raw: &mut serde_json::Value) -> std::result::Result<(), String> {
    for key in ["rope_parameters", "rope_scaling"] {
        let Some(p) = raw.get(key).filter(|p| !p.is_null()).cloned() else {
            continue;
        };
        let kind = p
            .get("rope_type")
            .or_else(|| p.get("type"))
            .and_then(|t| t.as_str())
            .unwrap_or("default");
        if kind != "default" {
            return Err(format!(
                "{key}: rope_type {kind:?} (only \"default\" is built)"
            ));
        }
        if let (Some(theta), Some(obj)) = (p.get("rope_theta").cloned(), raw.as_object_mut()) {
            obj.entry("rope_theta").or_insert(theta);
        }
    }
    Ok(())
}

impl LlamaForCausalLM {
    /// Loads a Hugging Face Llama-family model folder (`model_type` `llama`, as SmolLM2's
    /// and Llama's checkpoints are saved by transformers' `save_pretrained`): the shape
    /// from `config.json`, the weights by their transformers names
    /// (`model.layers.N.self_attn.q_proj.weight`, `[out, in]`) from `model.safetensors`
    /// or the shards of `model.safetensors.index.json`, in F32, F16 or BF16, computed in
    /// f32 (transformers' arithmetic).
    ///
    /// # Errors
    /// [`Error::Core`] for a file that cannot be read; [`Error::Model`] naming the file
    /// for malformed JSON or safetensors or another architecture;
    /// [`Error::Weights`] naming a missing or misshapen tensor.
    pub fn from_pretrained(dir: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let dir = dir.as_ref();
        let config_path = dir.join("config.json");
        let mut raw = read_json(&config_path)?;
        match raw.get("model_type").and_then(|v| v.as_str()) {
            Some("llama") | None => {}
            Some(other) => {
                return Err(model_err(
                    &config_path,
                    format!("model_type {other:?}: Llama-family (\"llama\") models are loaded"),
                ));
            }
        }
        rope_from_parameters(&mut raw).map_err(|e| model_err(&config_path, e))?;
        let config: LlamaConfig = serde_json::from_value(raw.clone())
            .map_err(|e| model_err(&config_path, e.to_string()))?;
        if let Some(hd) = raw.get("head_dim").and_then(|v| v.as_u64())
            && hd as usize != config.head_dim()
        {
            return Err(model_err(
                &config_path,
                format!(
                    "head_dim {hd} is not hidden_size / num_attention_heads ({})",
                    config.head_dim()
                ),
            ));
        }
        let w = Weights::open(dir)?;
        let (d, ff, hd) = (
            config.hidden_size,
            config.intermediate_size,
            config.head_dim(),
        );
        let (h, kvh, vocab) = (
            config.num_attention_heads,
            config.num_key_value_heads,
            config.vocab_size,
        );
        let embed = w.matrix("model.embed_tokens.weight", [vocab, d])?;
        let embed_tokens = TokenEmbedding::new(Tensor::from_data(
            TensorData::new(embed, [vocab, d]),
            device,
        ));
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for i in 0..config.num_hidden_layers {
            let n = |s: &str| format!("model.layers.{i}.{s}.weight");
            let lin = |s: &str, out, inp| w.linear(&n(s), out, inp, device);
            layers.push(LayerParts {
                norms: [
                    w.vector(&n("input_layernorm"), d, device)?,
                    w.vector(&n("post_attention_layernorm"), d, device)?,
                ],
                projections: [
                    lin("self_attn.q_proj", h * hd, d)?,
                    lin("self_attn.k_proj", kvh * hd, d)?,
                    lin("self_attn.v_proj", kvh * hd, d)?,
                    lin("self_attn.o_proj", d, h * hd)?,
                    lin("mlp.gate_proj", ff, d)?,
                    lin("mlp.up_proj", ff, d)?,
                    lin("mlp.down_proj", d, ff)?,
                ],
            });
        }
        let norm = w.vector("model.norm.weight", d, device)?;
        let lm_head = if config.tie_word_embeddings {
            None
        } else {
            Some(w.linear("lm_head.weight", vocab, d, device)?)
        };
        tracing::info!(
            layers = config.num_hidden_layers,
            hidden = d,
            vocab,
            dir = %dir.display(),
            "loaded a Llama-family model from a Hugging Face folder"
        );
        Ok(Self::from_parts(
            config,
            embed_tokens,
            layers,
            norm,
            lm_head,
        ))
    }
}

impl Tokenizer {
    /// The tokenizer of a Hugging Face model folder: `tokenizer.json`, with the chat
    /// template (`tokenizer_config.json`'s, or `chat_template.jinja`) and the beginning
    /// and end tokens of `tokenizer_config.json` when it has them.
    ///
    /// # Errors
    /// [`Error::Core`] for a file that cannot be read; [`Error::Model`] naming the file
    /// for malformed JSON; [`Error::Tokenizer`] for a `tokenizer.json` the `tokenizers`
    /// crate does not load.
    pub fn from_pretrained(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let path = dir.join("tokenizer.json");
        let bytes = read(&path)?;
        let inner = tokenizers::Tokenizer::from_bytes(&bytes).map_err(|e| Error::Tokenizer {
            reason: format!("{}: {e}", path.display()),
        })?;
        let config_path = dir.join("tokenizer_config.json");
        let config = if config_path.exists() {
            Some(read_json(&config_path)?)
        } else {
            None
        };
        // A token is a string or an object `{"content": ...}` (transformers' AddedToken).
        let token = |key: &str| -> Option<u32> {
            let v = config.as_ref()?.get(key)?;
            let s = v
                .as_str()
                .or_else(|| v.get("content").and_then(|c| c.as_str()))?;
            inner.token_to_id(s)
        };
        let (bos, eos) = (token("bos_token"), token("eos_token"));
        // transformers 4.43 and later save the template beside it, `chat_template.jinja`.
        let jinja = dir.join("chat_template.jinja");
        let template = match config
            .as_ref()
            .and_then(|c| c.get("chat_template"))
            .and_then(|t| t.as_str())
        {
            Some(t) => Some(t.to_owned()),
            None if jinja.exists() => Some(
                String::from_utf8(read(&jinja)?).map_err(|e| model_err(&jinja, e.to_string()))?,
            ),
            None => None,
        };
        Ok(Tokenizer::from_parts(inner, bos, eos, template))
    }
}
