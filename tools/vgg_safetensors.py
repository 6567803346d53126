# The VGG-19 weights (safetensors, F32) as torch tensors by name, for the Python scripts that run beside styleloom
# (tools/make-train-golden.py, bench/train_peer.py): u64 LE header length, JSON header, raw little-endian data.
import json
import struct

import numpy as np
import torch


def read_vgg(path):
    """{tensor name: torch.float32 tensor} of a safetensors file whose tensors are all F32."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, e in header.items():
        if k == "__metadata__":
            continue
        if e["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {k} is {e['dtype']}, not F32")
        a, b = e["data_offsets"]
        out[k] = torch.from_numpy(np.frombuffer(data[a:b], dtype="<f4").reshape(e["shape"]).copy())
    return out
