//! Where a model's weights come from — a CTranslate2 file or a Hugging Face
//! `model.safetensors` — read under transformers' names, and the model built from them.

use std::path::Path;

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};
use whet_core::burn;
use whet_core::lora::LoraLinear;

use crate::config::WhisperConfig;
use crate::ct2::Ct2Model;
use crate::error::{Error, Result};
use crate::lora_paths::push_attention;
use crate::model::{
    Conv1d, DecoderLayer, EncoderLayer, LayerNorm, NamedTensor, WhisperAttention, WhisperDecoder,
    WhisperEncoder, WhisperModel,
};

/// Where a model's weights come from, under transformers' names (linear weights
/// `[out, in]`).
pub(crate) trait WeightSource {
    /// The values of `name`, which must have `shape`.
    fn values(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>>;
}

/// Builds a model of `c` from `src` onto `device`.
pub(crate) fn build(
    c: WhisperConfig,
    src: &impl WeightSource,
    device: &Device,
) -> Result<WhisperModel> {
    let tensor = |name: &str, shape: &[usize]| -> Result<Vec<f32>> { src.values(name, shape) };
    let t1 = |name: &str, n: usize| -> Result<Tensor<1>> {
        Ok(Tensor::from_data(
            TensorData::new(tensor(name, &[n])?, [n]),
            device,
        ))
    };
    let t2 = |name: &str, a: usize, b: usize| -> Result<Tensor<2>> {
        Ok(Tensor::from_data(
            TensorData::new(tensor(name, &[a, b])?, [a, b]),
            device,
        ))
    };
    let linear = |p: &str, out: usize, inp: usize, bias: bool| -> Result<LoraLinear> {
        let w = tensor(&format!("{p}.weight"), &[out, inp])?;
        // Stored `[in, out]` (x W): transposed once here, not at every product.
        let mut wt = vec![0f32; w.len()];
        for o in 0..out {
            for i in 0..inp {
                wt[i * out + o] = w[o * inp + i];
            }
        }
        let b = if bias {
            Some(t1(&format!("{p}.bias"), out)?)
        } else {
            None
        };
        Ok(LoraLinear::new(
            Tensor::from_data(TensorData::new(wt, [inp, out]), device),
            b,
        ))
    };
    let norm = |p: &str, n: usize| -> Result<LayerNorm> {
        Ok(LayerNorm::new(
            t1(&format!("{p}.weight"), n)?,
            t1(&format!("{p}.bias"), n)?,
        ))
    };
    let attention = |p: &str, d: usize, heads: usize| -> Result<WhisperAttention> {
        Ok(WhisperAttention {
            q_proj: linear(&format!("{p}.q_proj"), d, d, true)?,
            k_proj: linear(&format!("{p}.k_proj"), d, d, false)?,
            v_proj: linear(&format!("{p}.v_proj"), d, d, true)?,
            out_proj: linear(&format!("{p}.out_proj"), d, d, true)?,
            heads,
        })
    };
    let conv = |p: &str, out: usize, inp: usize, stride: usize| -> Result<Conv1d> {
        let w = tensor(&format!("{p}.weight"), &[out, inp, 3])?;
        Ok(Conv1d {
            weight: Param::from_tensor(Tensor::from_data(
                TensorData::new(w, [out, inp, 3]),
                device,
            )),
            bias: Param::from_tensor(t1(&format!("{p}.bias"), out)?),
            stride,
        })
    };
    let d = c.d_model;
    let encoder = WhisperEncoder {
        conv1: conv("model.encoder.conv1", d, c.num_mel_bins, 1)?,
        conv2: conv("model.encoder.conv2", d, d, 2)?,
        embed_positions: Param::from_tensor(t2(
            "model.encoder.embed_positions.weight",
            c.max_source_positions,
            d,
        )?),
        layers: (0..c.encoder_layers)
            .map(|l| {
                let p = format!("model.encoder.layers.{l}");
                Ok(EncoderLayer {
                    self_attn: attention(&format!("{p}.self_attn"), d, c.encoder_attention_heads)?,
                    self_attn_layer_norm: norm(&format!("{p}.self_attn_layer_norm"), d)?,
                    fc1: linear(&format!("{p}.fc1"), c.encoder_ffn_dim, d, true)?,
                    fc2: linear(&format!("{p}.fc2"), d, c.encoder_ffn_dim, true)?,
                    final_layer_norm: norm(&format!("{p}.final_layer_norm"), d)?,
                })
            })
            .collect::<Result<_>>()?,
        layer_norm: norm("model.encoder.layer_norm", d)?,
    };
    let decoder = WhisperDecoder {
        embed_tokens: Param::from_tensor(t2("model.decoder.embed_tokens.weight", c.vocab_size, d)?),
        embed_positions: Param::from_tensor(t2(
            "model.decoder.embed_positions.weight",
            c.max_target_positions,
            d,
        )?),
        layers: (0..c.decoder_layers)
            .map(|l| {
                let p = format!("model.decoder.layers.{l}");
                let h = c.decoder_attention_heads;
                Ok(DecoderLayer {
                    self_attn: attention(&format!("{p}.self_attn"), d, h)?,
                    self_attn_layer_norm: norm(&format!("{p}.self_attn_layer_norm"), d)?,
                    encoder_attn: attention(&format!("{p}.encoder_attn"), d, h)?,
                    encoder_attn_layer_norm: norm(&format!("{p}.encoder_attn_layer_norm"), d)?,
                    fc1: linear(&format!("{p}.fc1"), c.decoder_ffn_dim, d, true)?,
                    fc2: linear(&format!("{p}.fc2"), d, c.decoder_ffn_dim, true)?,
                    final_layer_norm: norm(&format!("{p}.final_layer_norm"), d)?,
                })
            })
            .collect::<Result<_>>()?,
        layer_norm: norm("model.decoder.layer_norm", d)?,
    };
    Ok(WhisperModel {
        encoder,
        decoder,
        config: c,
    })
}

/// A CTranslate2 file read under transformers' names: fused query/key/value and
/// cross-attention key/value split by rows, norms' `gamma`/`beta` as `weight`/`bias`.
pub(crate) struct Ct2Source<'a> {
    pub(crate) file: &'a Ct2Model,
    pub(crate) path: &'a Path,
}

impl Ct2Source<'_> {
    /// CTranslate2's variable for transformers' `name`, and which of `parts` equal row
    /// blocks of it `name` is.
    fn map(name: &str) -> Option<(String, usize, usize)> {
        let (stem, leaf) = name.rsplit_once('.')?;
        let rest = stem.strip_prefix("model.")?;
        let (side, rest) = rest.split_once('.')?;
        let whole = |v: String| Some((format!("{v}/{leaf}"), 0, 1));
        let norm_leaf = |v: String| {
            let leaf = if leaf == "weight" { "gamma" } else { "beta" };
            Some((format!("{v}/{leaf}"), 0, 1))
        };
        match rest {
            "conv1" | "conv2" => return whole(format!("{side}/{rest}")),
            "embed_positions" => {
                return Some((format!("{side}/position_encodings/encodings"), 0, 1));
            }
            "embed_tokens" => return Some((format!("{side}/embeddings/weight"), 0, 1)),
            "layer_norm" => return norm_leaf(format!("{side}/layer_norm")),
            _ => {}
        }
        let rest = rest.strip_prefix("layers.")?;
        let (i, module) = rest.split_once('.')?;
        let l = format!("{side}/layer_{i}");
        match module {
            "self_attn.q_proj" => Some((format!("{l}/self_attention/linear_0/{leaf}"), 0, 3)),
            "self_attn.k_proj" => Some((format!("{l}/self_attention/linear_0/{leaf}"), 1, 3)),
            "self_attn.v_proj" => Some((format!("{l}/self_attention/linear_0/{leaf}"), 2, 3)),
            "self_attn.out_proj" => whole(format!("{l}/self_attention/linear_1")),
            "encoder_attn.q_proj" => whole(format!("{l}/attention/linear_0")),
            "encoder_attn.k_proj" => Some((format!("{l}/attention/linear_1/{leaf}"), 0, 2)),
            "encoder_attn.v_proj" => Some((format!("{l}/attention/linear_1/{leaf}"), 1, 2)),
            "encoder_attn.out_proj" => whole(format!("{l}/attention/linear_2")),
            "self_attn_layer_norm" => norm_leaf(format!("{l}/self_attention/layer_norm")),
            "encoder_attn_layer_norm" => norm_leaf(format!("{l}/attention/layer_norm")),
            "final_layer_norm" => norm_leaf(format!("{l}/ffn/layer_norm")),
            "fc1" => whole(format!("{l}/ffn/linear_0")),
            "fc2" => whole(format!("{l}/ffn/linear_1")),
            _ => None,
        }
    }
}

impl WeightSource for Ct2Source<'_> {
    fn values(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let bad = |reason: String| Error::Model {
            path: self.path.to_owned(),
            reason: format!("{name}: {reason}"),
        };
        let (var, part, parts) =
            Self::map(name).ok_or_else(|| bad("no CTranslate2 name".into()))?;
        let v = self
            .file
            .get(&var)
            .ok_or_else(|| bad(format!("{var} missing")))?;
        let mut want = shape.to_vec();
        want[0] *= parts;
        if v.shape != want {
            return Err(bad(format!(
                "{var} has shape {:?}, expected {want:?}",
                v.shape
            )));
        }
        let all = v.to_f32();
        let block = all.len() / parts;
        Ok(all[part * block..(part + 1) * block].to_vec())
    }
}

/// A Hugging Face `model.safetensors` read whole (f32, f16 or bf16 tensors).
pub(crate) struct HfSource {
    path: std::path::PathBuf,
    tensors: std::collections::HashMap<String, (Vec<usize>, Vec<f32>)>,
}

impl HfSource {
    pub(crate) fn read(path: std::path::PathBuf) -> Result<Self> {
        let bad = |reason: String| Error::Model {
            path: path.clone(),
            reason,
        };
        let bytes = std::fs::read(&path).map_err(|e| bad(e.to_string()))?;
        let st = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| bad(e.to_string()))?;
        let mut tensors = std::collections::HashMap::new();
        for (name, view) in st.tensors() {
            let data = view.data();
            let values: Vec<f32> = match view.dtype() {
                safetensors::Dtype::F32 => data
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect(),
                safetensors::Dtype::F16 => data
                    .chunks_exact(2)
                    .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                    .collect(),
                safetensors::Dtype::BF16 => data
                    .chunks_exact(2)
                    .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                    .collect(),
                other => return Err(bad(format!("{name}: {other:?} tensors are not read"))),
            };
            tensors.insert(name, (view.shape().to_vec(), values));
        }
        Ok(HfSource { path, tensors })
    }
}

impl WeightSource for HfSource {
    fn values(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let bad = |reason: String| Error::Model {
            path: self.path.clone(),
            reason: format!("{name}: {reason}"),
        };
        let (dims, values) = self
            .tensors
            .get(name)
            .ok_or_else(|| bad("missing".into()))?;
        if dims != shape {
            return Err(bad(format!("shape {dims:?}, expected {shape:?}")));
        }
        Ok(values.clone())
    }
}

impl WhisperModel {
    /// Every weight under transformers' name (`model.encoder.layers.0.self_attn.q_proj.weight`,
    /// linear weights `[out, in]`, convolutions `[out, in, 3]`), with its shape and values
    /// (active adapters merged). The output projection is the token embedding (tied).
    ///
    /// # Errors
    /// [`Error::Input`] when a weight cannot be read back from the device.
    pub fn named_tensors(&self) -> Result<Vec<NamedTensor>> {
        let (e, d) = (&self.encoder, &self.decoder);
        let device = e.layer_norm.weight.val().device();
        let mut out: Vec<NamedTensor> = Vec::new();
        let mut put = |name: String, dims: Vec<usize>, values: Vec<f32>| {
            out.push((name, dims, values));
        };
        for (name, conv) in [("conv1", &e.conv1), ("conv2", &e.conv2)] {
            let w = conv.weight.val();
            put(
                format!("model.encoder.{name}.weight"),
                w.dims().to_vec(),
                to_vec(w)?,
            );
            let b = conv.bias.val();
            put(
                format!("model.encoder.{name}.bias"),
                b.dims().to_vec(),
                to_vec(b)?,
            );
        }
        for (name, t) in [
            (
                "model.encoder.embed_positions.weight",
                e.embed_positions.val(),
            ),
            ("model.decoder.embed_tokens.weight", d.embed_tokens.val()),
            (
                "model.decoder.embed_positions.weight",
                d.embed_positions.val(),
            ),
        ] {
            put(name.into(), t.dims().to_vec(), to_vec(t)?);
        }
        let mut linears: Vec<(String, &LoraLinear)> = Vec::new();
        let mut norms: Vec<(String, &LayerNorm)> = vec![
            ("model.encoder.layer_norm".into(), &e.layer_norm),
            ("model.decoder.layer_norm".into(), &d.layer_norm),
        ];
        for (i, l) in e.layers.iter().enumerate() {
            let p = format!("model.encoder.layers.{i}");
            push_attention(&mut linears, &format!("{p}.self_attn"), &l.self_attn);
            linears.push((format!("{p}.fc1"), &l.fc1));
            linears.push((format!("{p}.fc2"), &l.fc2));
            norms.push((format!("{p}.self_attn_layer_norm"), &l.self_attn_layer_norm));
            norms.push((format!("{p}.final_layer_norm"), &l.final_layer_norm));
        }
        for (i, l) in d.layers.iter().enumerate() {
            let p = format!("model.decoder.layers.{i}");
            push_attention(&mut linears, &format!("{p}.self_attn"), &l.self_attn);
            push_attention(&mut linears, &format!("{p}.encoder_attn"), &l.encoder_attn);
            linears.push((format!("{p}.fc1"), &l.fc1));
            linears.push((format!("{p}.fc2"), &l.fc2));
            norms.push((format!("{p}.self_attn_layer_norm"), &l.self_attn_layer_norm));
            norms.push((
                format!("{p}.encoder_attn_layer_norm"),
                &l.encoder_attn_layer_norm,
            ));
            norms.push((format!("{p}.final_layer_norm"), &l.final_layer_norm));
        }
        for (name, l) in linears {
            // `[in, out]` here, `[out, in]` in transformers.
            let w = l.effective_weight(&device).transpose();
            put(format!("{name}.weight"), w.dims().to_vec(), to_vec(w)?);
            if let Some(b) = &l.bias {
                let b = b.val();
                put(format!("{name}.bias"), b.dims().to_vec(), to_vec(b)?);
            }
        }
        for (name, n) in norms {
            for (what, t) in [("weight", n.weight.val()), ("bias", n.bias.val())] {
                put(format!("{name}.{what}"), t.dims().to_vec(), to_vec(t)?);
            }
        }
        Ok(out)
    }
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| Error::Input {
            reason: format!("reading a weight back: {e:?}"),
        })
}
