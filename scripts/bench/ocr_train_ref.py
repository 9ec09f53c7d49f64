"""PyTorch's side of benches/benches/ocr_train.rs: one full training step of PP-OCRv4's
detector (640 x 640, batch 4, DB loss) and recognizer (48 x 320, batch 32, CTC loss) on the
CPU, the networks converted by onnx2torch from the same ONNX files Whetstone loads.

The conversion is made to match Whetstone's burn modules:
- PP-OCRv4 stores its weights as Constant nodes; they become initializers, and every
  floating-point weight with more than one value (convolutions, linear layers, layer and
  batch norms) is a trainable parameter.
- A convolution followed by a scalar multiply and add (PPLCNetV3's learnable affine) is
  folded into the convolution, as Whetstone's reader does. The remaining scalar affines
  stay constants here, while burn trains them: a small advantage to PyTorch.
- The detector gets a threshold branch, a copy of the probability head fed the neck's
  features detached (Whetstone's `DbTrainNet`), and the recognizer's final softmax is
  dropped for CTC on log-softmax logits.

Prints `python det_step_seconds <v>` and `python rec_step_seconds <v>`: the mean over 5
(detector) and 10 (recognizer) steps after two warm-up steps.
Usage: python ocr_train_ref.py WEIGHTS_DIR [DEVICE]   (DEVICE: cpu, the default, or cuda)
"""

import copy
import sys
import time

import numpy as np
import onnx
import onnx2torch
import torch
import torch.nn.functional as F
from onnx import numpy_helper
from onnx2torch.node_converters import batch_norm

# PP-OCRv4's recognizer leaves the rank of three batch-norm inputs uninferred; all are 2-D.
batch_norm._BN_CLASS_FROM_SPATIAL_RANK[-2] = torch.nn.BatchNorm2d

LR = 1e-4
DEVICE = torch.device(sys.argv[2] if len(sys.argv) > 2 else "cpu")


def load(path):
    """The ONNX graph with Constant weights as initializers and conv affines folded."""
    m = onnx.load(path)
    keep = []
    for n in m.graph.node:
        if n.op_type == "Constant" and n.attribute[0].name == "value":
            t = onnx.TensorProto()
            t.CopyFrom(n.attribute[0].t)
            t.name = n.output[0]
            m.graph.initializer.append(t)
        else:
            keep.append(n)
    del m.graph.node[:]
    m.graph.node.extend(keep)
    fold_conv_affine(m)
    return m


def fold_conv_affine(m):
    """Conv -> Mul(scalar) -> Add(scalar) becomes one Conv (as Whetstone reads it)."""
    inits = {i.name: i for i in m.graph.initializer}
    consumers = {}
    for n in m.graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)

    def scalar(node):
        for i in node.input:
            if i in inits and numpy_helper.to_array(inits[i]).size == 1:
                return i, float(numpy_helper.to_array(inits[i]).reshape(()))
        return None, None

    removed = set()
    for conv in list(m.graph.node):
        if conv.op_type != "Conv" or len(consumers.get(conv.output[0], [])) != 1:
            continue
        mul = consumers[conv.output[0]][0]
        if mul.op_type != "Mul" or len(consumers.get(mul.output[0], [])) != 1:
            continue
        add = consumers[mul.output[0]][0]
        if add.op_type != "Add":
            continue
        (_, s), (_, c) = scalar(mul), scalar(add)
        if s is None or c is None:
            continue
        w = numpy_helper.to_array(inits[conv.input[1]]) * s
        out_ch = w.shape[0]
        b = numpy_helper.to_array(inits[conv.input[2]]) if len(conv.input) > 2 else np.zeros(out_ch, np.float32)
        b = (b * s + c).astype(np.float32)
        inits[conv.input[1]].CopyFrom(numpy_helper.from_array(w.astype(np.float32), conv.input[1]))
        bias_name = conv.output[0] + ".folded_bias"
        m.graph.initializer.append(numpy_helper.from_array(b, bias_name))
        if len(conv.input) > 2:
            conv.input[2] = bias_name
        else:
            conv.input.append(bias_name)
        conv.output[0] = add.output[0]
        removed.update([id(mul), id(add)])
    keep = [n for n in m.graph.node if id(n) not in removed]
    del m.graph.node[:]
    m.graph.node.extend(keep)


def trainable(module):
    """Every float buffer of more than one value becomes a parameter."""
    for sub in module.modules():
        for name, buf in list(sub.named_buffers(recurse=False)):
            if buf.is_floating_point() and buf.numel() > 1 and "running" not in name:
                delattr(sub, name)
                sub.register_parameter(name, torch.nn.Parameter(buf.clone()))
    return module


class DbTrain(torch.nn.Module):
    """The converted detector returning (probability, threshold) maps."""

    def __init__(self, gm):
        super().__init__()
        graph = gm.graph
        nodes = list(graph.nodes)
        concat = next(n for n in nodes if n.op == "call_module" and "concat" in n.name)
        out = next(n for n in nodes if n.op == "output")
        prob = out.args[0]
        # The head is everything after the neck's concat; copy it for the threshold branch.
        head_nodes = nodes[nodes.index(concat) + 1 : nodes.index(out)]
        env = {}
        with graph.inserting_before(out):
            env[concat] = graph.call_function(torch.Tensor.detach, (concat,))
            for n in head_nodes:
                if n.op == "call_module":
                    name = n.target + "_thresh"
                    gm.add_submodule(name, copy.deepcopy(gm.get_submodule(n.target)))
                    env[n] = graph.call_module(name, tuple(env.get(a, a) for a in n.args))
                else:
                    env[n] = graph.node_copy(n, lambda a: env.get(a, a))
        out.args = ((prob, env[head_nodes[-1]]),)
        graph.lint()
        gm.recompile()
        self.gm = gm

    def forward(self, x):
        return self.gm(x)


def db_loss(prob, thresh, gt, mask, thresh_map, thresh_mask, k=50.0, eps=1e-6):
    """PaddleOCR's DBLoss: 5 x balanced BCE (3:1 OHEM) + 10 x masked L1 + dice."""
    p, t = prob[:, 0], thresh[:, 0]
    pc = p.clamp(1e-6, 1 - 1e-6)
    bce = -(gt * pc.log() + (1 - gt) * (1 - pc).log())
    positive = gt * mask
    negative = (1 - gt) * mask
    pos_count = int(positive.sum())
    neg_count = min(int(negative.sum()), pos_count * 3)
    neg_loss, _ = (bce * negative).view(-1).topk(neg_count)
    bce_loss = ((bce * positive).sum() + neg_loss.sum()) / (pos_count + neg_count + eps)
    l1 = ((t - thresh_map).abs() * thresh_mask).sum() / (thresh_mask.sum() + eps)
    binary = torch.sigmoid(k * (p - t))
    inter = (binary * gt * mask).sum()
    union = (binary * mask).sum() + (gt * mask).sum() + eps
    dice = 1 - 2 * inter / union
    return bce_loss * 5 + l1 * 10 + dice


def det_data():
    """Four 640 x 640 pages with the bench's twelve 560 x 24 bars: shrink map (the bars
    shrunk by DB's offset), threshold map and mask around them."""
    torch.manual_seed(0)
    x = torch.randn(4, 3, 640, 640)
    gt = torch.zeros(4, 640, 640)
    thresh_mask = torch.zeros(4, 640, 640)
    thresh_map = torch.full((4, 640, 640), 0.3)
    for i in range(12):
        y = 30 + 50 * i
        gt[:, y + 5 : y + 20, 45:596] = 1
        thresh_mask[:, y - 5 : y + 30, 35:606] = 1
        thresh_map[:, y - 5 : y + 30, 35:606] = 0.5
    return tuple(t.to(DEVICE) for t in (x, gt, torch.ones(4, 640, 640), thresh_map, thresh_mask))


def step(model, opt, loss):
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    opt.step()


def sync():
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def timed(steps, one):
    for _ in range(2):
        one()
    sync()
    t = time.perf_counter()
    for _ in range(steps):
        one()
    sync()
    return (time.perf_counter() - t) / steps


def main():
    weights = sys.argv[1]
    det = DbTrain(trainable(onnx2torch.convert(load(f"{weights}/ch_PP-OCRv4_det_infer.onnx"))))
    det = det.to(DEVICE)
    det.train()
    det_opt = torch.optim.AdamW(det.parameters(), lr=LR)
    x, gt, mask, thresh_map, thresh_mask = det_data()

    def det_one():
        prob, thresh = det(x)
        step(det, det_opt, db_loss(prob, thresh, gt, mask, thresh_map, thresh_mask))

    print(f"python det_step_seconds {timed(5, det_one):.3f}", flush=True)

    rec = onnx2torch.convert(load(f"{weights}/ch_PP-OCRv4_rec_infer.onnx"))
    out = next(n for n in rec.graph.nodes if n.op == "output")
    softmax = out.args[0]
    out.args = (softmax.args[0],)
    rec.graph.erase_node(softmax)
    rec.recompile()
    rec = trainable(rec).to(DEVICE)
    rec.train()
    rec_opt = torch.optim.AdamW(rec.parameters(), lr=LR)
    torch.manual_seed(0)
    xr = torch.randn(32, 3, 48, 320).to(DEVICE)
    targets = torch.randint(1, 6625, (32, 20)).to(DEVICE)
    lengths = torch.full((32,), 20, dtype=torch.long, device=DEVICE)

    def rec_one():
        logits = rec(xr)
        log_probs = F.log_softmax(logits, 2).transpose(0, 1)
        steps_in = torch.full((32,), log_probs.shape[0], dtype=torch.long, device=DEVICE)
        loss = F.ctc_loss(log_probs, targets, steps_in, lengths, blank=0, reduction="none").mean()
        step(rec, rec_opt, loss)

    print(f"python rec_step_seconds {timed(10, rec_one):.3f}", flush=True)
    n_det = sum(p.numel() for p in det.parameters())
    n_rec = sum(p.numel() for p in rec.parameters())
    print(f"# torch {torch.__version__} on {DEVICE}, {torch.get_num_threads()} threads; "
          f"trainable parameters: detector {n_det}, recognizer {n_rec}", file=sys.stderr)


if __name__ == "__main__":
    main()
