#!/usr/bin/python3
# Writes test/fixtures/train-golden.json: two Adam steps of a tiny transform network (3->4->4->4 channels, one
# residual block, resize-convolution upsampling, 16 px crops, batch 2) with the VGG loss up to conv2_1, in PyTorch,
# from the same initial parameters, crops and style pixels that test/train.test.ts feeds styleloom's step.
#
# Run with the system interpreter that has torch:  /usr/bin/python3 tools/make-train-golden.py
# (Debian: sudo apt-get install -y python3-torch python3-numpy). The VGG weights are read from
# ../shared/assets/models/vgg19-conv1_1-conv3_4.safetensors (caffe-bgr) with a small safetensors parser.
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

from vgg_safetensors import read_vgg  # tools/vgg_safetensors.py, beside this script

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures", "train-golden.json")
VGG = os.path.join(HERE, "..", "..", "shared", "assets", "models", "vgg19-conv1_1-conv3_4.safetensors")
MEAN_BGR = np.array([103.939, 116.779, 123.68])
SIZE, BATCH, C = 16, 2, 4
CONTENT_LAYERS, STYLE_LAYERS = ["conv2_1"], ["conv1_1", "conv2_1"]
CW, SW, TVW, LR = 1.0, 1000.0, 1.0, 1e-3
IN_EPS = 1e-3

# name, kind, kernel, stride, cin, cout, relu (styleloom's layerShapes for channels [4,4,4], 1 residual block, resize)
LAYERS = [
    ("conv1", "conv", 9, 1, 3, C, True),
    ("conv2", "conv", 3, 2, C, C, True),
    ("conv3", "conv", 3, 2, C, C, True),
    ("res1a", "conv", 3, 1, C, C, True),
    ("res1b", "conv", 3, 1, C, C, False),
    ("up1", "upconv", 3, 2, C, C, True),
    ("up2", "upconv", 3, 2, C, C, True),
    ("out", "conv", 9, 1, C, 3, False),
]


VGG_INDEX = {"conv1_1": 0, "conv1_2": 2, "conv2_1": 5}


def vgg_features(x, w, wanted):
    feats = {}
    h = x
    for name, pool_before in [("conv1_1", False), ("conv1_2", False), ("conv2_1", True)]:
        if pool_before:
            h = F.max_pool2d(h, 2)
        i = VGG_INDEX[name]
        h = F.relu(F.conv2d(h, w[f"features.{i}.weight"], w[f"features.{i}.bias"], padding=1))
        if name in wanted:
            feats[name] = h
        if len(feats) == len(wanted):
            break
    return feats


def to_caffe(rgb):  # N,3,H,W RGB 0..255 -> BGR minus the mean
    mean = torch.tensor(MEAN_BGR, dtype=torch.float32).view(1, 3, 1, 1)
    return rgb[:, [2, 1, 0]] - mean


def gram(f):
    n, c, h, w = f.shape
    m = f.reshape(n, c, h * w)
    return torch.bmm(m, m.transpose(1, 2)) / (c * h * w)


def inorm(y, scale, shift):
    mu = y.mean(dim=(2, 3), keepdim=True)
    var = ((y - mu) ** 2).mean(dim=(2, 3), keepdim=True)
    return (y - mu) / torch.sqrt(var + IN_EPS) * scale.view(1, -1, 1, 1) + shift.view(1, -1, 1, 1)


def layer(x, p, spec):
    name, kind, k, s, _, _, relu = spec
    w = p[f"{name}.weight"]
    if kind == "upconv":
        y = F.conv2d(F.interpolate(x, scale_factor=2, mode="nearest"), w, padding=(k - 1) // 2)
    elif s == 1:
        y = F.conv2d(x, w, padding=(k - 1) // 2)
    else:  # TF 'SAME' for even sides, kernel 3, stride 2: pad 0 before, 1 after
        y = F.conv2d(F.pad(x, (0, 1, 0, 1)), w, stride=2)
    y = inorm(y, p[f"{name}.scale"], p[f"{name}.shift"])
    return F.relu(y) if relu else y


def network(x, p):
    h = x
    k = 0
    while k < len(LAYERS):
        if LAYERS[k][0].startswith("res") and LAYERS[k][0].endswith("a"):
            h = h + layer(layer(h, p, LAYERS[k]), p, LAYERS[k + 1])
            k += 2
        else:
            h = layer(h, p, LAYERS[k])
            k += 1
    return torch.clamp(torch.tanh(h) * 150 + 127.5, 0, 255)


def main():
    rng = np.random.default_rng(20261203)
    params = {}
    for name, kind, k, s, cin, cout, relu in LAYERS:
        bound = 1 / np.sqrt(cin * k * k)
        params[f"{name}.weight"] = rng.uniform(-bound, bound, size=(cout, cin, k, k)).astype(np.float32)
        params[f"{name}.scale"] = (1 + 0.1 * rng.standard_normal(cout)).astype(np.float32)
        params[f"{name}.shift"] = (0.1 * rng.standard_normal(cout)).astype(np.float32)
    crops = rng.integers(0, 256, size=(BATCH, 3, SIZE, SIZE)).astype(np.float32)
    style = rng.integers(0, 256, size=(20, 24, 3)).astype(np.uint8)  # H x W x RGB

    w = read_vgg(VGG)
    style_caffe = torch.from_numpy((style.astype(np.float64)[:, :, ::-1] - MEAN_BGR).astype(np.float32).transpose(2, 0, 1).copy()).unsqueeze(0)
    with torch.no_grad():
        targets = {l: gram(f) for l, f in vgg_features(style_caffe, w, STYLE_LAYERS).items()}

    p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    x = torch.from_numpy(crops)
    opt = torch.optim.Adam(list(p.values()), lr=LR, betas=(0.9, 0.999), eps=1e-8)
    steps = []
    for _ in range(2):
        opt.zero_grad()
        out = network(x, p)
        fo = vgg_features(to_caffe(out), w, CONTENT_LAYERS + STYLE_LAYERS)
        with torch.no_grad():
            fi = vgg_features(to_caffe(x), w, CONTENT_LAYERS)
        content = CW * sum(F.mse_loss(fo[l], fi[l]) for l in CONTENT_LAYERS)
        style_loss = SW / len(STYLE_LAYERS) * sum(F.mse_loss(gram(fo[l]), targets[l].expand(BATCH, -1, -1)) for l in STYLE_LAYERS)
        tv = ((out[:, :, :, 1:] - out[:, :, :, :-1]) ** 2).sum() + ((out[:, :, 1:, :] - out[:, :, :-1, :]) ** 2).sum()
        tv = TVW * tv / (SIZE * SIZE) / BATCH
        total = content + style_loss + tv
        total.backward()
        steps.append({
            "loss": {"content": content.item(), "style": style_loss.item(), "tv": tv.item(), "total": total.item()},
            "grads": {k: [float(v) for v in t.grad.numpy().ravel()] for k, t in p.items()},
        })
        opt.step()
    fixture = {
        "about": "tools/make-train-golden.py: two torch.optim.Adam steps of a tiny transform network (torch %s)" % torch.__version__,
        "layers": [dict(zip(["name", "kind", "kernel", "stride", "cin", "cout", "relu"], l)) for l in LAYERS],
        "size": SIZE, "batch": BATCH, "content_layers": CONTENT_LAYERS, "style_layers": STYLE_LAYERS,
        "content_weight": CW, "style_weight": SW, "tv_weight": TVW, "lr": LR,
        "params": {k: [float(v) for v in a.ravel()] for k, a in params.items()},
        "crops": [int(v) for v in crops.ravel()],
        "style": {"height": 20, "width": 24, "rgb": [int(v) for v in style.ravel()]},
        "steps": steps,
        "final_params": {k: [float(v) for v in t.detach().numpy().ravel()] for k, t in p.items()},
    }
    with open(OUT, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(f"wrote {OUT}: loss {steps[0]['loss']['total']:.6e} -> {steps[1]['loss']['total']:.6e}")


if __name__ == "__main__":
    main()
