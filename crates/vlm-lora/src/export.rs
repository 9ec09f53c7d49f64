//! Deploying a fine-tuned model: its adapter merged into the weights, written as a
//! Hugging Face folder (`config.json`, `model.safetensors`, `tokenizer.json`: what
//! transformers' `from_pretrained` loads) or as a GGUF file llama.cpp runs, its
//! projections quantised (Q8_0: INT8 weight-only).

use std::collections::HashMap;
use std::path::Path;

use burn::tensor::{Device, Tensor};
use safetensors::tensor::{Dtype, TensorView};
use serde_json::{Value, json};
use whet_core::burn;
use whet_core::data::atomic_write;
use whet_core::gguf::{Gguf, GgufWriter};
use whet_core::lora::LoraLinear;
use whet_core::quant::{GgmlType, PackedMatrix};

use crate::error::{Error, Result};
use crate::gguf_load::rope_rows;
use crate::model::{LlamaForCausalLM, PROJ};
use crate::tokenizer::Tokenizer;

fn model_err(path: &Path, reason: impl Into<String>) -> Error {
    Error::Model {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

fn host(t: Tensor<2>, what: &str) -> Result<Vec<f32>> {
    t.into_data()
        .try_into_vec::<f32>()
        .map_err(|e| Error::Weights {
            tensor: what.to_owned(),
            reason: format!("read back: {e:?}"),
        })
}

/// A projection's weight with its active adapter merged, `[out, in]` row-major.
fn merged(p: &LoraLinear, device: &Device, what: &str) -> Result<(Vec<f32>, [usize; 2])> {
    let w = p.effective_weight(device); // [in, out]
    let [inp, out] = w.dims();
    Ok((host(w.transpose(), what)?, [out, inp]))
}

/// A named weight: Hugging Face's name, its shape, its values (row-major).
type Named = (String, Vec<usize>, Vec<f32>);

impl LlamaForCausalLM {
    fn projection(&self, layer: usize, k: usize) -> &LoraLinear {
        let l = &self.layers[layer];
        [
            &l.self_attn.q_proj,
            &l.self_attn.k_proj,
            &l.self_attn.v_proj,
            &l.self_attn.o_proj,
            &l.mlp.gate_proj,
            &l.mlp.up_proj,
            &l.mlp.down_proj,
        ][k]
    }

    /// Every weight under Hugging Face's name, shape and layout, each projection with its
    /// active LoRA adapter merged (what PEFT's `merge_and_unload` gives).
    fn merged_tensors(&self, device: &Device) -> Result<Vec<Named>> {
        let mut out = Vec::new();
        let embed = self.embed_tokens.weight(device);
        let dims = embed.dims().to_vec();
        out.push((
            "model.embed_tokens.weight".into(),
            dims,
            host(embed, "model.embed_tokens.weight")?,
        ));
        for (i, l) in self.layers.iter().enumerate() {
            let norm =
                |w: &Tensor<1>, name: &str| -> Result<(String, Vec<usize>, Vec<f32>)> {
                    let name = format!("model.layers.{i}.{name}.weight");
                    let v = w.clone().into_data().try_into_vec::<f32>().map_err(|e| {
                        Error::Weights {
                            tensor: name.clone(),
                            reason: format!("read back: {e:?}"),
                        }
                    })?;
                    Ok((name, vec![v.len()], v))
                };
            out.push(norm(&l.input_layernorm.weight.val(), "input_layernorm")?);
            out.push(norm(
                &l.post_attention_layernorm.weight.val(),
                "post_attention_layernorm",
            )?);
            for (k, (hf, _)) in PROJ.iter().enumerate() {
                let name = format!("model.layers.{i}.{hf}.weight");
                let (v, [o, n]) = merged(self.projection(i, k), device, &name)?;
                out.push((name, vec![o, n], v));
            }
        }
        let norm = self
            .norm
            .weight
            .val()
            .into_data()
            .try_into_vec::<f32>()
            .map_err(|e| Error::Weights {
                tensor: "model.norm.weight".into(),
                reason: format!("read back: {e:?}"),
            })?;
        out.push(("model.norm.weight".into(), vec![norm.len()], norm));
        if !self.is_tied() {
            let (v, [o, n]) = merged(&self.lm_head, device, "lm_head.weight")?;
            out.push(("lm_head.weight".into(), vec![o, n], v));
        }
        Ok(out)
    }

    /// Writes the model as a Hugging Face folder, every adapter that is active merged into
    /// its weights: `config.json` (this model's [`crate::LlamaConfig`] with
    /// `"model_type": "llama"`) and `model.safetensors` (f32, transformers' names and
    /// layouts), each written atomically into `dir` (created if missing).
    /// [`LlamaForCausalLM::from_pretrained`] and transformers' `from_pretrained` load it;
    /// write the tokenizer beside it with [`Tokenizer::save_pretrained`].
    ///
    /// ```no_run
    /// use whet_vlm_lora::{LlamaForCausalLM, Precision, Tokenizer};
    /// let device = whet_core::DeviceSpec::from_env()?.device()?;
    /// let file = whet_core::gguf::Gguf::open("assets/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf")?;
    /// let mut model = LlamaForCausalLM::from_gguf_file(&file, Precision::F32, &device)?;
    /// whet_core::lora::load_peft(&mut model, "sft", "whet-out/extraction-lm/adapter", &device)?;
    /// model.save_pretrained("whet-out/merged", &device)?;
    /// Tokenizer::from_gguf(&file)?.save_pretrained("whet-out/merged")?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Core`] when a file cannot be written; [`Error::Weights`] when a weight
    /// cannot be read back from the device.
    pub fn save_pretrained(&self, dir: impl AsRef<Path>, device: &Device) -> Result<()> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| model_err(dir, e.to_string()))?;
        let tensors = self.merged_tensors(device)?;
        let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
            .into_iter()
            .map(|(n, d, v)| (n, d, v.iter().flat_map(|x| x.to_le_bytes()).collect()))
            .collect();
        let path = dir.join("model.safetensors");
        let views = bytes
            .iter()
            .map(|(n, d, b)| {
                TensorView::new(Dtype::F32, d.clone(), b)
                    .map(|v| (n.clone(), v))
                    .map_err(|e| model_err(&path, e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
        let file = safetensors::serialize(views, Some(metadata))
            .map_err(|e| model_err(&path, e.to_string()))?;
        atomic_write(&path, &file)?;

        let c = self.config();
        let mut config = serde_json::to_value(c).expect("a config serialises");
        let extra = json!({
            "architectures": ["LlamaForCausalLM"],
            "model_type": "llama",
            "hidden_act": "silu",
            "head_dim": c.head_dim(),
            "attention_bias": false,
            "mlp_bias": false,
            "dtype": "float32",
        });
        if let (Value::Object(o), Value::Object(e)) = (&mut config, extra) {
            o.extend(e);
        }
        let json = serde_json::to_vec_pretty(&config).expect("JSON serialises");
        atomic_write(dir.join("config.json"), &json)?;
        tracing::info!(dir = %dir.display(), "saved a merged model as a Hugging Face folder");
        Ok(())
    }

    /// Writes the model as a GGUF file llama.cpp runs: `source`'s metadata (its
    /// tokenizer and chat template included) and tensors, every decoder projection
    /// replaced by its weight with the active adapter merged, quantised as `ty` (Q8_0:
    /// INT8 weight-only; `F32` to keep it exact); embeddings and norms as `source` has
    /// them. `source` must be the file this model was loaded from (or one of the same
    /// shape). Load it back with [`LlamaForCausalLM::from_gguf`] and
    /// [`crate::Precision::Packed`] to run it in `ty`.
    ///
    /// # Errors
    /// [`Error::Core`] for a tensor `source` lacks or a file that cannot be written;
    /// [`Error::Weights`] for a projection whose shape `source` does not share or `ty`
    /// cannot quantise.
    pub fn save_merged_gguf(
        &self,
        source: &Gguf,
        ty: GgmlType,
        path: impl AsRef<Path>,
        device: &Device,
    ) -> Result<()> {
        let path = path.as_ref();
        let mut w = GgufWriter::new();
        for (k, v) in &source.metadata {
            // Its precision label no longer describes the file.
            if k != "general.file_type" {
                w.set(k.clone(), v.clone());
            }
        }
        let c = self.config();
        for t in &source.tensors {
            let projection = t.name.strip_prefix("blk.").and_then(|rest| {
                let (layer, name) = rest.split_once('.')?;
                let layer: usize = layer.parse().ok()?;
                let k = PROJ
                    .iter()
                    .position(|(_, g)| name == format!("{g}.weight"))?;
                Some((layer, k))
            });
            let Some((layer, k)) = projection.filter(|(l, _)| *l < self.layers.len()) else {
                let (bytes, tty) = source.tensor_bytes(&t.name)?;
                w.add_tensor(t.name.clone(), &t.dims, tty, bytes.to_vec())?;
                continue;
            };
            let (mut values, [out, inp]) = merged(self.projection(layer, k), device, &t.name)?;
            if t.dims != [inp as u64, out as u64] {
                return Err(Error::Weights {
                    tensor: t.name.clone(),
                    reason: format!("{:?} in the GGUF, [{inp}, {out}] in the model", t.dims),
                });
            }
            // llama.cpp's query and key rows interleave each head's rotary halves.
            let heads = match k {
                0 => Some(c.num_attention_heads),
                1 => Some(c.num_key_value_heads),
                _ => None,
            };
            if let Some(h) = heads {
                let order = rope_rows(out, h, true);
                let rows: Vec<f32> = order
                    .iter()
                    .flat_map(|&r| values[r * inp..(r + 1) * inp].to_vec())
                    .collect();
                values = rows;
            }
            let bytes = match ty {
                GgmlType::F32 => values.iter().flat_map(|x| x.to_le_bytes()).collect(),
                _ => PackedMatrix::quantize(ty, out, inp, &values)
                    .map_err(|e| Error::Weights {
                        tensor: t.name.clone(),
                        reason: e.to_string(),
                    })?
                    .bytes()
                    .to_vec(),
            };
            w.add_tensor(t.name.clone(), &t.dims, ty, bytes)?;
        }
        w.write(path)?;
        tracing::info!(path = %path.display(), ty = ty.name(), "saved a merged model as GGUF");
        Ok(())
    }
}

impl Tokenizer {
    /// Writes the tokenizer as a Hugging Face folder holds it: `tokenizer.json` and
    /// `tokenizer_config.json` (its beginning and end tokens and chat template), which
    /// transformers' `AutoTokenizer.from_pretrained` and [`Tokenizer::from_pretrained`]
    /// load.
    ///
    /// # Errors
    /// [`Error::Tokenizer`] or [`Error::Core`] when a file cannot be written.
    pub fn save_pretrained(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| model_err(dir, e.to_string()))?;
        self.save(dir.join("tokenizer.json"))?;
        let token = |id: Option<u32>| id.and_then(|i| self.hf().id_to_token(i));
        let mut config = json!({
            "tokenizer_class": "PreTrainedTokenizerFast",
            "clean_up_tokenization_spaces": false,
            "bos_token": token(self.bos()),
            "eos_token": token(self.eos()),
        });
        if let Some(t) = self.chat_template() {
            config["chat_template"] = json!(t);
        }
        let json = serde_json::to_vec_pretty(&config).expect("JSON serialises");
        atomic_write(dir.join("tokenizer_config.json"), &json)?;
        Ok(())
    }
}
