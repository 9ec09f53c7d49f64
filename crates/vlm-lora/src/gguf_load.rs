//! Building a [`LlamaForCausalLM`] from a llama.cpp GGUF file.

use std::path::Path;

use burn::tensor::{Device, Tensor, TensorData};
use whet_core::burn;
use whet_core::gguf::Gguf;
use whet_core::lora::LoraLinear;
use whet_core::quant::PackedMatrix;

use crate::config::LlamaConfig;
use crate::error::{Error, Result};
use crate::model::{LayerParts, LlamaForCausalLM, TokenEmbedding};

/// How the weights are held once loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// Each weight stays in its GGUF blocks (Q4_1, Q8_0...): the model's memory is the
    /// file's, and LoRA adapters train over it (QLoRA, decoded where used). On the CPU,
    /// inference multiplies straight from the blocks as llama.cpp does (activations
    /// quantised to 8 bits: `PackedMatrix::matmul`) and computes the rest as llama.cpp
    /// does too ([`LlamaForCausalLM::set_llama_cpp_arithmetic`]): the fastest, and
    /// llama.cpp's logits to the last bit.
    #[default]
    Packed,
    /// Every weight decoded to f32 once (four times the memory of Q8, eight of Q4); the
    /// products in f32, as transformers computes the decoded model.
    F32,
}

/// Row order between llama.cpp's query/key layout and Hugging Face's. llama.cpp's
/// converter interleaves each head's two rotary halves (`permute` in
/// `convert_hf_to_gguf.py`); row `i` of the result is row `order[i]` of the input.
/// `to_gguf`: from Hugging Face's layout to llama.cpp's; otherwise back.
pub fn rope_rows(out: usize, heads: usize, to_gguf: bool) -> Vec<usize> {
    let hd = out / heads;
    let half = hd / 2;
    let mut order = vec![0; out];
    for h in 0..heads {
        for j in 0..half {
            for t in 0..2 {
                let (hf, gguf) = (h * hd + t * half + j, h * hd + 2 * j + t);
                if to_gguf {
                    order[gguf] = hf;
                } else {
                    order[hf] = gguf;
                }
            }
        }
    }
    order
}

fn weights_err(tensor: &str, reason: impl Into<String>) -> Error {
    Error::Weights {
        tensor: tensor.into(),
        reason: reason.into(),
    }
}

fn linear(
    file: &Gguf,
    name: &str,
    shape: [usize; 2],
    rows: Option<Vec<usize>>,
    precision: Precision,
    device: &Device,
) -> Result<LoraLinear> {
    let mut m = file.packed(name)?;
    if m.dims() != shape {
        return Err(weights_err(
            name,
            format!("[out, in] {:?}, expected {shape:?}", m.dims()),
        ));
    }
    if let Some(order) = rows {
        m = m.permute_rows(&order)?;
    }
    Ok(match precision {
        Precision::Packed => LoraLinear::packed(m, None),
        Precision::F32 => LoraLinear::new(m.to_tensor_transposed(device), None),
    })
}

fn vector(file: &Gguf, name: &str, len: usize, device: &Device) -> Result<Tensor<1>> {
    let v = file.tensor_f32(name)?;
    if v.len() != len {
        return Err(weights_err(
            name,
            format!("{} values, expected {len}", v.len()),
        ));
    }
    Ok(Tensor::from_data(TensorData::new(v, [len]), device))
}

impl LlamaForCausalLM {
    /// Loads a llama.cpp GGUF model (`general.architecture = llama`): its shape from the
    /// metadata, every weight by llama.cpp's tensor names, the query and key rows put
    /// back in Hugging Face's rotary layout (so PEFT's adapters apply as they are).
    ///
    /// # Errors
    /// [`Error::Core`] for an unreadable file or a missing key or tensor (named);
    /// [`Error::Weights`] for a tensor whose shape does not fit the metadata.
    pub fn from_gguf(
        path: impl AsRef<Path>,
        precision: Precision,
        device: &Device,
    ) -> Result<Self> {
        let file = Gguf::open(path)?;
        Self::from_gguf_file(&file, precision, device)
    }

    /// [`LlamaForCausalLM::from_gguf`] of a file already read.
    ///
    /// # Errors
    /// As [`LlamaForCausalLM::from_gguf`].
    pub fn from_gguf_file(file: &Gguf, precision: Precision, device: &Device) -> Result<Self> {
        let config = LlamaConfig::from_gguf(file)?;
        let (d, ff, hd) = (
            config.hidden_size,
            config.intermediate_size,
            config.head_dim(),
        );
        let (h, kvh) = (config.num_attention_heads, config.num_key_value_heads);
        let embed: PackedMatrix = file.packed("token_embd.weight")?;
        if embed.dims() != [config.vocab_size, d] {
            return Err(weights_err(
                "token_embd.weight",
                format!("{:?}, expected [{}, {d}]", embed.dims(), config.vocab_size),
            ));
        }
        let embed_tokens = match precision {
            Precision::Packed => TokenEmbedding::packed(embed),
            Precision::F32 => TokenEmbedding::new(embed.to_tensor(device)),
        };
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for i in 0..config.num_hidden_layers {
            let n = |s: &str| format!("blk.{i}.{s}.weight");
            let lin = |s: &str, shape, rows| linear(file, &n(s), shape, rows, precision, device);
            layers.push(LayerParts {
                norms: [
                    vector(file, &n("attn_norm"), d, device)?,
                    vector(file, &n("ffn_norm"), d, device)?,
                ],
                projections: [
                    lin("attn_q", [h * hd, d], Some(rope_rows(h * hd, h, false)))?,
                    lin(
                        "attn_k",
                        [kvh * hd, d],
                        Some(rope_rows(kvh * hd, kvh, false)),
                    )?,
                    lin("attn_v", [kvh * hd, d], None)?,
                    lin("attn_output", [d, h * hd], None)?,
                    lin("ffn_gate", [ff, d], None)?,
                    lin("ffn_up", [ff, d], None)?,
                    lin("ffn_down", [d, ff], None)?,
                ],
            });
        }
        let norm = vector(file, "output_norm.weight", d, device)?;
        let lm_head = if config.tie_word_embeddings {
            None
        } else {
            Some(linear(
                file,
                "output.weight",
                [config.vocab_size, d],
                None,
                precision,
                device,
            )?)
        };
        tracing::info!(
            layers = config.num_hidden_layers,
            hidden = d,
            vocab = config.vocab_size,
            ?precision,
            "loaded a Llama-family model from GGUF"
        );
        let mut model = Self::from_parts(config, embed_tokens, layers, norm, lm_head);
        model.set_llama_cpp_arithmetic(precision == Precision::Packed);
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::rope_rows;

    #[test]
    fn rope_row_orders_are_inverse() {
        let to = rope_rows(24, 3, true);
        let back = rope_rows(24, 3, false);
        for i in 0..24 {
            assert_eq!(to[back[i]], i);
        }
        // Head 0 of width 8: llama.cpp's rows 0..8 are Hugging Face's 0, 4, 1, 5, 2, 6, 3, 7.
        assert_eq!(&to[..8], &[0, 4, 1, 5, 2, 6, 3, 7]);
    }
}
