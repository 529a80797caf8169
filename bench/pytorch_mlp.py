#!/usr/bin/env python3
"""The PyTorch peer of droplab's MLP benchmark: the same task, measured the same way.

Task (see ../shared targets and bench/src/lib.rs): MLP 784-1024-1024-10, ReLU, dropout
0.2 (input) / 0.5 / 0.5, softmax cross-entropy, SGD momentum 0.9 lr 0.01, batch 128, f32,
synthetic data; inference at batch 1000 in eval mode. Prints one JSON object with the
medians over --rounds rounds (dropout on and off alternate within each round).
"""
import argparse
import json
import statistics
import time

import torch
from torch import nn


def model(dropout: bool) -> nn.Module:
    p_in, p_h = (0.2, 0.5) if dropout else (0.0, 0.0)
    return nn.Sequential(
        nn.Dropout(p_in), nn.Linear(784, 1024), nn.ReLU(), nn.Dropout(p_h),
        nn.Linear(1024, 1024), nn.ReLU(), nn.Dropout(p_h), nn.Linear(1024, 10),
    )


def train_rate(x, y, batch, steps, dropout):
    torch.manual_seed(0)
    m = model(dropout)
    m.train()
    opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    batches = x.shape[0] // batch
    warmup = 5
    start = time.perf_counter()
    for s in range(steps + warmup):
        if s == warmup:
            start = time.perf_counter()
        i = s % batches
        xb, yb = x[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(m(xb), yb)
        loss.backward()
        opt.step()
    return steps * batch / (time.perf_counter() - start)


def infer_rate(x, batches):
    m = model(True)
    m.eval()
    with torch.inference_mode():
        m(x)
        start = time.perf_counter()
        for _ in range(batches):
            m(x)
    return batches * x.shape[0] / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--train-steps", type=int, default=60)
    ap.add_argument("--infer-batch", type=int, default=1000)
    ap.add_argument("--infer-batches", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(a.batch * 16, 784, generator=g)
    y = torch.randint(0, 10, (a.batch * 16,), generator=g)
    xi = torch.rand(a.infer_batch, 784, generator=g)
    on, off, inf = [], [], []
    for _ in range(a.rounds):
        on.append(train_rate(x, y, a.batch, a.train_steps, True))
        off.append(train_rate(x, y, a.batch, a.train_steps, False))
        inf.append(infer_rate(xi, a.infer_batches))
    on_m, off_m = statistics.median(on), statistics.median(off)
    print(json.dumps({
        "train_samples_per_sec": on_m,
        "train_samples_per_sec_no_dropout": off_m,
        "infer_samples_per_sec": statistics.median(inf),
        "dropout_overhead": 1.0 - on_m / off_m,
        "threads": a.threads,
        "torch_version": torch.__version__,
    }))


if __name__ == "__main__":
    main()
