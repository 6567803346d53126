#!/usr/bin/python3
# The training peer: one step of styleloom's network recipe in PyTorch — the half-width Johnson network (16/32/64
# channels, 5 residual blocks, reflection padding, resize-convolution upsampling, instance norm), the VGG-19 loss
# (content conv3_2, style conv1_1/conv2_1/conv3_1 Grams, total variation), backward, torch.optim.Adam — timed over
# steps after a warm-up. Crops are random tensors made before timing (no data loading: the peer's best case) and
# the style targets random Grams (the loss's values do not change its cost).
#
# Usage: /usr/bin/python3 bench/train_peer.py --size 256 --batch 4 --threads 2 --steps 6 [--warmup 2] [--width half]
# Prints one JSON line: ms per step (median and each), images/s, peak RSS. Needs python3-torch python3-numpy
# (scripts/install-audio-peer.sh installs them); VGG weights from ../shared/assets/models (never copied here).
import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from vgg_safetensors import read_vgg  # noqa: E402  (the reader tools/make-train-golden.py uses too)

VGG = os.path.join(HERE, "..", "..", "shared", "assets", "models", "vgg19-conv1_1-conv3_4.safetensors")
MEAN_BGR = torch.tensor([103.939, 116.779, 123.68]).view(1, 3, 1, 1)
IN_EPS = 1e-3
# VGG-19 features up to conv3_2: (name, index in features, max-pool before it)
VGG_CONVS = [("conv1_1", 0, False), ("conv1_2", 2, False), ("conv2_1", 5, True), ("conv2_2", 7, False), ("conv3_1", 10, True), ("conv3_2", 12, False)]
CONTENT, STYLE = ["conv3_2"], ["conv1_1", "conv2_1", "conv3_1"]


def vgg_features(x, w):
    feats, h = {}, x
    for name, i, pool in VGG_CONVS:
        if pool:
            h = F.max_pool2d(h, 2)
        h = F.relu(F.conv2d(h, w[f"features.{i}.weight"], w[f"features.{i}.bias"], padding=1))
        feats[name] = h
    return feats


def gram(f):
    n, c, hh, ww = f.shape
    m = f.reshape(n, c, hh * ww)
    return torch.bmm(m, m.transpose(1, 2)) / (c * hh * ww)


class Net(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        # name, cin, cout, kernel, stride (the up layers: nearest x2, then a stride-1 conv)
        spec = [("conv1", 3, c, 9, 1), ("conv2", c, 2 * c, 3, 2), ("conv3", 2 * c, 4 * c, 3, 2)]
        spec += [(f"res{r}{ab}", 4 * c, 4 * c, 3, 1) for r in range(1, 6) for ab in "ab"]
        spec += [("up1", 4 * c, 2 * c, 3, 1), ("up2", 2 * c, c, 3, 1), ("out", c, 3, 9, 1)]
        self.spec = {n: (k, s) for n, _, _, k, s in spec}
        self.convs = torch.nn.ModuleDict({n: torch.nn.Conv2d(i, o, k, stride=s, bias=False) for n, i, o, k, s in spec})
        self.norms = torch.nn.ModuleDict({n: torch.nn.InstanceNorm2d(o, eps=IN_EPS, affine=True) for n, _, o, _, _ in spec})

    def layer(self, x, name, relu=True):
        k, s = self.spec[name]
        if name.startswith("up"):
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        p = (k - 1) // 2
        pads = (0, 1, 0, 1) if s == 2 else (p, p, p, p)  # TF 'SAME' at stride 2 on even sides: 0 before, 1 after
        y = self.norms[name](self.convs[name](F.pad(x, pads, mode="reflect")))
        return F.relu(y) if relu else y

    def forward(self, x):
        h = self.layer(self.layer(self.layer(x, "conv1"), "conv2"), "conv3")
        for r in range(1, 6):
            h = h + self.layer(self.layer(h, f"res{r}a"), f"res{r}b", relu=False)
        h = self.layer(self.layer(self.layer(h, "up1"), "up2"), "out", relu=False)
        return torch.clamp(torch.tanh(h) * 150 + 127.5, 0, 255)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--width", choices=["half", "full"], default="half")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    w = read_vgg(VGG)
    net = Net(16 if a.width == "half" else 32)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(2)
    crops = [torch.rand(a.batch, 3, a.size, a.size, generator=g) * 255 for _ in range(a.warmup + a.steps)]
    with torch.no_grad():
        chans = {"conv1_1": 64, "conv2_1": 128, "conv3_1": 256}
        targets = {l: gram(torch.rand(1, chans[l], 8, 8, generator=g)) for l in STYLE}
    times = []
    for i, x in enumerate(crops):
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        out = net(x)
        fo = vgg_features(out[:, [2, 1, 0]] - MEAN_BGR, w)
        with torch.no_grad():
            fi = vgg_features(x[:, [2, 1, 0]] - MEAN_BGR, w)
        content = sum(F.mse_loss(fo[l], fi[l]) for l in CONTENT)
        style = 3.0 / len(STYLE) * sum(F.mse_loss(gram(fo[l]), targets[l].expand(a.batch, -1, -1)) for l in STYLE)
        tv = (((out[:, :, :, 1:] - out[:, :, :, :-1]) ** 2).sum() + ((out[:, :, 1:, :] - out[:, :, :-1, :]) ** 2).sum()) / (a.size * a.size) / a.batch
        (content + style + tv).backward()
        opt.step()
        if i >= a.warmup:
            times.append((time.perf_counter() - t) * 1000)
    med = sorted(times)[len(times) // 2]
    print(json.dumps({
        "peer": "pytorch", "torch": torch.__version__, "size": a.size, "batch": a.batch, "threads": a.threads, "width": a.width,
        "ms_per_step": med, "steps_ms": [round(t, 1) for t in times], "images_per_s": a.batch * 1000 / med,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
