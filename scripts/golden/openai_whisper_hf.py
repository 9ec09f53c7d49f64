"""openai-whisper's model built from a Hugging Face Whisper folder (what whisper_to_hf
writes): openai-whisper has no offline checkpoint here, and the folder holds the same
weights as CTranslate2's file. Alignment heads come from the folder's config.json or
generation_config.json when one names them."""

import json
import os

import torch
import whisper
from safetensors.torch import load_file

RENAME = [
    ("model.", ""), (".layers.", ".blocks."), (".self_attn_layer_norm.", ".attn_ln."),
    (".encoder_attn_layer_norm.", ".cross_attn_ln."), (".final_layer_norm.", ".mlp_ln."),
    (".self_attn.", ".attn."), (".encoder_attn.", ".cross_attn."), (".q_proj.", ".query."),
    (".k_proj.", ".key."), (".v_proj.", ".value."), (".out_proj.", ".out."),
    (".fc1.", ".mlp.0."), (".fc2.", ".mlp.2."),
]


def load(hf_dir, alignment_heads=None):
    cfg = json.load(open(f"{hf_dir}/config.json"))
    hf = load_file(f"{hf_dir}/model.safetensors")
    dims = whisper.model.ModelDimensions(
        n_mels=cfg["num_mel_bins"], n_vocab=cfg["vocab_size"],
        n_audio_ctx=cfg["max_source_positions"], n_audio_state=cfg["d_model"],
        n_audio_head=cfg["encoder_attention_heads"], n_audio_layer=cfg["encoder_layers"],
        n_text_ctx=cfg["max_target_positions"], n_text_state=cfg["d_model"],
        n_text_head=cfg["decoder_attention_heads"], n_text_layer=cfg["decoder_layers"],
    )
    state = {}
    for k, v in hf.items():
        n = k
        for a, b in RENAME:
            n = n.replace(a, b)
        n = n.replace("encoder.layer_norm.", "encoder.ln_post.")
        n = n.replace("decoder.layer_norm.", "decoder.ln.")
        n = n.replace("encoder.embed_positions.weight", "encoder.positional_embedding")
        n = n.replace("decoder.embed_positions.weight", "decoder.positional_embedding")
        n = n.replace("decoder.embed_tokens.weight", "decoder.token_embedding.weight")
        state[n] = v
    model = whisper.model.Whisper(dims)
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and all("alignment_heads" in m for m in missing), (missing, unexpected)
    if alignment_heads is not None:
        mask = torch.zeros(dims.n_text_layer, dims.n_text_head, dtype=torch.bool)
        for layer, head in alignment_heads:
            mask[layer, head] = True
        model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)
    return model.eval()
