#!/usr/bin/env python3
"""Loads a droplab run's model.safetensors into a PyTorch nn.Sequential and checks that
PyTorch's eval() predictions equal droplab's weight-scaling predictions.

Usage (torch in bench/.venv; the run trained on the embedded digits):
    target/release/droplab eval RUN --split all --predictions predictions.csv
    bench/.venv/bin/python bench/check_torch_weights.py RUN predictions.csv

Reads safetensors with the standard library (no extra package): 8-byte header length, JSON
header, raw little-endian data. The input is crates/droplab/data/digits.csv.gz scaled to
[0, 1] as droplab does (pixel / 16).
"""
import gzip
import json
import os
import struct
import sys

import numpy as np
import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    tensors = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", info
        a, b = info["data_offsets"]
        tensors[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype="<f4").reshape(info["shape"]).copy())
    return tensors, meta


def build(modules, tensors):
    layers = []
    for i, m in enumerate(modules):
        if m == "Linear":
            w = tensors[f"{i}.weight"]
            lin = nn.Linear(w.shape[1], w.shape[0])
            layers.append(lin)
        elif m == "Dropout":
            layers.append(nn.Dropout(0.5))  # the rate does not matter in eval()
        else:
            layers.append({"ReLU": nn.ReLU, "Tanh": nn.Tanh, "Sigmoid": nn.Sigmoid, "SELU": nn.SELU}[m]())
    model = nn.Sequential(*layers)
    model.load_state_dict(tensors)  # strict: every name and shape must match
    return model.eval()


def main():
    run, preds = sys.argv[1], sys.argv[2]
    tensors, meta = load_safetensors(os.path.join(run, "model.safetensors"))
    model = build(meta["torch_modules"].split(","), tensors)
    rows = np.loadtxt(gzip.open(os.path.join(ROOT, "crates/droplab/data/digits.csv.gz")), delimiter=",")
    x = torch.tensor(rows[:, :64] / 16.0, dtype=torch.float32)
    with torch.no_grad():
        p_torch = torch.softmax(model(x), dim=1).numpy()
    p_droplab = np.loadtxt(preds, delimiter=",", skiprows=1)[:, 1:]
    diff = np.abs(p_torch - p_droplab).max()
    agree = (p_torch.argmax(1) == p_droplab.argmax(1)).mean()
    print(json.dumps({"modules": meta["torch_modules"], "examples": len(x), "max_abs_prob_diff": float(diff),
                      "argmax_agreement": float(agree)}))
    if diff > 1e-4 or agree < 1.0:
        sys.exit(1)


if __name__ == "__main__":
    main()
