//! Whisper's linear layers under transformers' module paths, so that whet-core's LoRA
//! (`add_adapter`, `save_peft`, `load_peft`) targets them as PEFT targets a transformers
//! Whisper model.

use whet_core::lora::LoraLinear;

use crate::model::{DecoderLayer, WhisperAttention, WhisperModel};

pub(crate) fn push_attention<'a>(
    v: &mut Vec<(String, &'a LoraLinear)>,
    p: &str,
    a: &'a WhisperAttention,
) {
    v.push((format!("{p}.q_proj"), &a.q_proj));
    v.push((format!("{p}.k_proj"), &a.k_proj));
    v.push((format!("{p}.v_proj"), &a.v_proj));
    v.push((format!("{p}.out_proj"), &a.out_proj));
}

/// Every linear layer under transformers' module path (`model.decoder.layers.0.encoder_attn.q_proj`),
/// so that whet-core's LoRA (`add_adapter`, `save_peft`, `load_peft`) targets them as PEFT
/// does a transformers Whisper model.
impl whet_core::lora::LoraModel for WhisperModel {
    fn lora_layers(&self) -> Vec<(String, &LoraLinear)> {
        let mut out = Vec::new();
        for (i, l) in self.encoder.layers.iter().enumerate() {
            let p = format!("model.encoder.layers.{i}");
            push_attention(&mut out, &format!("{p}.self_attn"), &l.self_attn);
            out.push((format!("{p}.fc1"), &l.fc1));
            out.push((format!("{p}.fc2"), &l.fc2));
        }
        for (i, l) in self.decoder.layers.iter().enumerate() {
            let p = format!("model.decoder.layers.{i}");
            push_attention(&mut out, &format!("{p}.self_attn"), &l.self_attn);
            push_attention(&mut out, &format!("{p}.encoder_attn"), &l.encoder_attn);
            out.push((format!("{p}.fc1"), &l.fc1));
            out.push((format!("{p}.fc2"), &l.fc2));
        }
        out
    }

    fn lora_layers_mut(&mut self) -> Vec<(String, &mut LoraLinear)> {
        let mut out: Vec<(String, &mut LoraLinear)> = Vec::new();
        for (i, l) in self.encoder.layers.iter_mut().enumerate() {
            let p = format!("model.encoder.layers.{i}");
            push_attention_mut(&mut out, &format!("{p}.self_attn"), &mut l.self_attn);
            out.push((format!("{p}.fc1"), &mut l.fc1));
            out.push((format!("{p}.fc2"), &mut l.fc2));
        }
        for (i, l) in self.decoder.layers.iter_mut().enumerate() {
            let p = format!("model.decoder.layers.{i}");
            let DecoderLayer {
                self_attn,
                encoder_attn,
                fc1,
                fc2,
                ..
            } = l;
            push_attention_mut(&mut out, &format!("{p}.self_attn"), self_attn);
            push_attention_mut(&mut out, &format!("{p}.encoder_attn"), encoder_attn);
            out.push((format!("{p}.fc1"), fc1));
            out.push((format!("{p}.fc2"), fc2));
        }
        out
    }
}

fn push_attention_mut<'a>(
    v: &mut Vec<(String, &'a mut LoraLinear)>,
    p: &str,
    a: &'a mut WhisperAttention,
) {
    let WhisperAttention {
        q_proj,
        k_proj,
        v_proj,
        out_proj,
        ..
    } = a;
    v.push((format!("{p}.q_proj"), q_proj));
    v.push((format!("{p}.k_proj"), k_proj));
    v.push((format!("{p}.v_proj"), v_proj));
    v.push((format!("{p}.out_proj"), out_proj));
}
