"""The kernels of benches/benches/kernels.rs in numpy (OpenBLAS) and PyTorch on the CPU.

Prints `numpy <kernel> <seconds>` and `torch <kernel> <seconds>` lines, each the median
of repeats taking at least a second in all (after one warm-up run). numpy has no
convolution: those two kernels are PyTorch's alone. Run by scripts/bench-kernels.sh.
"""

import time

import numpy as np
import torch

torch.set_grad_enabled(False)
rng = np.random.default_rng(0)


def median_seconds(run, budget=1.0):
    run()
    times = []
    start = time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - start < budget and len(times) < 1000):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def rand(*shape):
    return rng.standard_normal(shape, dtype=np.float32)


MATMULS = {
    "matmul_1024x1024x1024": (1024, 1024, 1024),
    "matmul_64x576x1536": (64, 576, 1536),
    "matmul_1x576x1536": (1, 576, 1536),
    "matmul_64x576x49152": (64, 576, 49152),
}


def np_softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def np_layernorm(x, g, b, eps=1e-5):
    mean = x.mean(axis=1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * g + b


def main():
    results = []
    for name, (m, k, n) in MATMULS.items():
        a, b = rand(m, k), rand(k, n)
        results.append(("numpy", name, median_seconds(lambda: a @ b)))
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        results.append(("torch", name, median_seconds(lambda: ta @ tb)))
    x, w = torch.from_numpy(rand(1, 64, 160, 160)), torch.from_numpy(rand(64, 64, 3, 3))
    results.append(("torch", "conv3x3_64x160x160",
                     median_seconds(lambda: torch.nn.functional.conv2d(x, w, padding=1))))
    x, w = torch.from_numpy(rand(1, 256, 80, 80)), torch.from_numpy(rand(256, 1, 5, 5))
    results.append(("torch", "depthwise5x5_256x80x80",
                    median_seconds(lambda: torch.nn.functional.conv2d(x, w, padding=2, groups=256))))
    s = rand(4096, 1024)
    results.append(("numpy", "softmax_4096x1024", median_seconds(lambda: np_softmax(s))))
    ts = torch.from_numpy(s)
    results.append(("torch", "softmax_4096x1024", median_seconds(lambda: torch.softmax(ts, 1))))
    x, g, b = rand(4096, 576), rand(576), rand(576)
    results.append(("numpy", "layernorm_4096x576", median_seconds(lambda: np_layernorm(x, g, b))))
    tx, tg, tb = (torch.from_numpy(v) for v in (x, g, b))
    results.append(("torch", "layernorm_4096x576",
                    median_seconds(lambda: torch.nn.functional.layer_norm(tx, (576,), tg, tb, 1e-5))))
    for side, name, seconds in results:
        print(f"{side} {name} {seconds:.9f}")


if __name__ == "__main__":
    main()
