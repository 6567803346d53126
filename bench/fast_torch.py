# The fast-style transform network in PyTorch, from the same checkpoint folder (manifest.json + raw
# float32 files), for bench/fast.mjs: times forward passes, or runs one image for a correctness check.
#
# Usage: python3 fast_torch.py --model DIR [--sizes 512,1024] [--batch 16] [--batch-size 256]
#                              [--threads 2] [--reps 3]          -> one JSON line of timings
#        python3 fast_torch.py --model DIR --check IN.f32 H W OUT.f32   (planar RGB 0..255 float32 [3,H,W])
import argparse
import json
import os
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F


def load(model_dir):
    with open(os.path.join(model_dir, "manifest.json")) as f:
        man = json.load(f)
    var = lambda i: "Variable" if i == 0 else "Variable_%d" % i
    out = []
    for i in range(48):
        info = man[var(i)]
        a = np.fromfile(os.path.join(model_dir, info["filename"]), dtype="<f4").reshape(info["shape"])
        out.append(torch.from_numpy(a.copy()))
    return out


class FastStyleNet(torch.nn.Module):
    """ARCHITECTURE.txt: TF 'SAME' convs (stride-2 pads are asymmetric), instance norm eps 1e-3,
    5 residual blocks, two stride-2 transposed convs (full output minus the last row/column), tanh."""

    def __init__(self, v):
        super().__init__()
        # conv: TF HWIO -> OIHW; transposed conv: TF [kh, kw, out, in] -> [in, out, kh, kw]; both permute(3, 2, 0, 1)
        self.w = [v[3 * k].permute(3, 2, 0, 1).contiguous() for k in range(16)]
        self.shift = [v[3 * k + 1] for k in range(16)]
        self.scale = [v[3 * k + 2] for k in range(16)]

    def norm(self, x, k, relu):
        y = F.instance_norm(x, weight=self.scale[k], bias=self.shift[k], eps=1e-3)
        return F.relu(y) if relu else y

    def conv(self, x, k, stride, relu=True):
        kh = self.w[k].shape[2]
        pads = []
        for n in (x.shape[3], x.shape[2]):  # F.pad order: last dim first
            out = -(-n // stride)
            total = max((out - 1) * stride + kh - n, 0)
            pads += [total // 2, total - total // 2]
        return self.norm(F.conv2d(F.pad(x, pads), self.w[k], stride=stride), k, relu)

    def up(self, x, k):
        h, w = x.shape[2], x.shape[3]
        y = F.conv_transpose2d(x, self.w[k], stride=2)[:, :, : 2 * h, : 2 * w]
        return self.norm(y, k, True)

    def forward(self, x):
        x = self.conv(x, 0, 1)
        x = self.conv(x, 1, 2)
        x = self.conv(x, 2, 2)
        for k in range(3, 13, 2):
            x = x + self.conv(self.conv(x, k, 1), k + 1, 1, relu=False)
        x = self.up(x, 13)
        x = self.up(x, 14)
        x = self.conv(x, 15, 1, relu=False)
        return torch.clamp(torch.tanh(x) * 150 + 127.5, 0, 255)


def timed(net, x, reps):
    with torch.no_grad():
        net(x)  # warm-up
        ts = []
        for _ in range(reps):
            t0 = time.perf_counter()
            net(x)
            ts.append((time.perf_counter() - t0) * 1000)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--sizes", default="512,1024")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--check", nargs=4, metavar=("IN", "H", "W", "OUT"))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    net = FastStyleNet(load(a.model)).eval()
    if a.check:
        h, w = int(a.check[1]), int(a.check[2])
        x = torch.from_numpy(np.fromfile(a.check[0], dtype="<f4").reshape(1, 3, h, w))
        with torch.no_grad():
            net(x).numpy().astype("<f4").tofile(a.check[3])
        return
    g = torch.Generator().manual_seed(0)
    res = {"torch": torch.__version__, "threads": torch.get_num_threads(), "ms_per_image": {}}
    for s in [int(v) for v in a.sizes.split(",")]:
        res["ms_per_image"][str(s)] = timed(net, torch.rand(1, 3, s, s, generator=g) * 255, a.reps)
    ms = timed(net, torch.rand(a.batch, 3, a.batch_size, a.batch_size, generator=g) * 255, a.reps)
    res["batch"] = {"n": a.batch, "size": a.batch_size, "ms": ms, "images_per_s": a.batch * 1000 / ms}
    print(json.dumps(res))


if __name__ == "__main__":
    main()
