#!/usr/bin/python3
# The fastest fp32 kernels the peer's stack reaches on this machine, for an honest "% of peak": OpenBLAS sgemm
# through numpy, torch's matmul and torch's 3x3 convolution (oneDNN) at 256 channels; best of --runs each.
# Prints one JSON line {"kernels": [{"what", "gflops", "best_ms"}...]}. Run with /usr/bin/python3 (Debian's
# python3-torch python3-numpy). Usage: peak_kernels.py [--threads 2] [--runs 5] [--n 4096]
import argparse, json, time
import numpy as np
import torch

ap = argparse.ArgumentParser()
ap.add_argument('--threads', type=int, default=2)
ap.add_argument('--runs', type=int, default=5)
ap.add_argument('--n', type=int, default=4096)
a = ap.parse_args()
torch.set_num_threads(a.threads)


def best(f, runs):
    f()  # warm-up
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return min(ts)


out = []
n = a.n
A = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
B = np.random.default_rng(2).standard_normal((n, n), dtype=np.float32)
t = best(lambda: A @ B, a.runs)
out.append({'what': f'numpy (OpenBLAS) sgemm {n}x{n} @ {n}x{n}', 'gflops': 2 * n**3 / t / 1e9, 'best_ms': t * 1e3})
TA, TB = torch.from_numpy(A), torch.from_numpy(B)
t = best(lambda: torch.mm(TA, TB), a.runs)
out.append({'what': f'torch.mm {n}x{n} @ {n}x{n}', 'gflops': 2 * n**3 / t / 1e9, 'best_ms': t * 1e3})
# VGG's conv3_x shape at 512 px: 256 -> 256 channels, 3x3, 128 x 128
x = torch.randn(1, 256, 128, 128)
w = torch.randn(256, 256, 3, 3)
with torch.no_grad():
    t = best(lambda: torch.nn.functional.conv2d(x, w, padding=1), a.runs)
flops = 2 * 256 * 256 * 9 * 128 * 128
out.append({'what': 'torch conv2d (oneDNN) 256->256 3x3 at 128x128', 'gflops': flops / t / 1e9, 'best_ms': t * 1e3})
print(json.dumps({'threads': a.threads, 'torch': torch.__version__, 'kernels': out}))
