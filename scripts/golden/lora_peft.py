"""LoRA golden fixtures from PEFT itself (see lora-peft.sh for the pinned versions).

1. A small model named as a Llama block gets a PEFT LoRA adapter (rsLoRA, random B so the
   adapter matters); its base weights, PEFT's adapter folder, an input, and PEFT's outputs
   (adapter on, adapter off, merged weights) are written under OUT/peft_*.
2. The adapter folder whet-core wrote (OUT/whet_adapter, made by the Rust test
   `write_whet_adapter` before this runs) is loaded by `PeftModel.from_pretrained` over the
   same base, and PEFT's output on it is written to OUT/peft_reads_whet.safetensors.
"""
import json
import sys
from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import load_file, save_file

out = Path(sys.argv[1])
torch.manual_seed(0)


class Attn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.q_proj = torch.nn.Linear(64, 32, bias=True)


class Mlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.up_proj = torch.nn.Linear(32, 64, bias=False)


class Layer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.self_attn = Attn()
        self.mlp = Mlp()

    def forward(self, x):
        return self.mlp.up_proj(self.self_attn.q_proj(x))


class Inner(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = torch.nn.ModuleList([Layer(), Layer()])


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.model = Inner()

    def forward(self, x):
        # layer 1 consumes layer 0's output: [.., 64] -> [.., 64] -> [.., 64]
        return self.model.layers[1](self.model.layers[0](x))


base = Model().eval()
base_state = {k: v.detach().clone().contiguous() for k, v in base.state_dict().items()}
save_file(base_state, str(out / "base.safetensors"))
x = torch.randn(5, 64)

config = LoraConfig(
    r=4,
    lora_alpha=4,
    target_modules=["q_proj", "up_proj"],
    layers_to_transform=[0],
    use_rslora=True,  # scale alpha / sqrt(r) = 2
)
peft_model = get_peft_model(base, config).eval()
# PEFT starts B at zero; give it the small values training would, so the adapter matters.
with torch.no_grad():
    for name, p in peft_model.named_parameters():
        if "lora_B" in name:
            p.copy_(torch.randn_like(p) * 0.05)
peft_model.save_pretrained(str(out / "peft_adapter"))
layer0 = peft_model.base_model.model.model.layers[0]
with torch.no_grad():
    on = peft_model(x)
    q_on = layer0.self_attn.q_proj(x)
    up_on = layer0.mlp.up_proj(q_on)
    with peft_model.disable_adapter():
        off = peft_model(x)
    merged = peft_model.merge_and_unload()
    merged_w = {k: v.detach().clone().contiguous() for k, v in merged.state_dict().items()}
save_file(
    {"x": x, "adapter_on": on, "adapter_off": off, "layer0.q_proj": q_on, "layer0.up_proj": up_on}
    | {f"merged.{k}": v for k, v in merged_w.items()},
    str(out / "peft_outputs.safetensors"),
)

whet = out / "whet_adapter"
if whet.exists():
    fresh = Model().eval()
    fresh.load_state_dict(load_file(str(out / "base.safetensors")))
    loaded = PeftModel.from_pretrained(fresh, str(whet)).eval()
    inp = load_file(str(whet / "whet_output.safetensors"))
    with torch.no_grad():
        got = loaded(inp["x"])
    diff = (got - inp["y"]).abs().max().item()
    save_file({"y": got.contiguous()}, str(out / "peft_reads_whet.safetensors"))
    print(f"PEFT reading whet-core's adapter: max |difference| {diff:.3g}")
    assert diff < 1e-6, diff
print(json.dumps({"adapter_on_mean": on.abs().mean().item(), "off_vs_on": (on - off).abs().max().item()}))
