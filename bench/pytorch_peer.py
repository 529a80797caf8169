#!/usr/bin/env python3
"""The PyTorch peer of droplab's benchmarks: the same tasks, measured the same way.

Tasks (bench/src/lib.rs), all softmax cross-entropy, SGD momentum 0.9 lr 0.01, batch 128,
f32, synthetic data, inference in eval mode:
  mlp: 784-1024-1024-10, ReLU, dropout 0.2 (input) / 0.5 / 0.5; inference at batch 1000.
  cnn: conv 32 5x5 (padding 2), max pool 2, conv 64 5x5, max pool 2, dense 1024 with dropout
       0.5, 10, on 1x28x28; inference at batch 500.
  lstm: 2-layer LSTM, 256 units, 35 steps of 256 features, last step -> Linear(256, 10), batch
       32. "train" is nn.LSTM with its between-layer dropout 0.25 (per step, not variational);
       "cell" is what a PyTorch user writes for variational dropout: an nn.LSTMCell loop with
       one mask per sequence on the inputs, between the layers and on the recurrent state.
Prints one JSON object with the medians over --rounds rounds (dropout on and off alternate
within each round).
"""
import argparse
import json
import statistics
import time

import torch
from torch import nn


TASKS = {
    # input shape, timed training steps, inference batch, inference batches
    "mlp": ((784,), 60, 1000, 20),
    "cnn": ((1, 28, 28), 10, 500, 4),
    "lstm": ((35, 256), 20, 256, 4),
}
BATCH = {"mlp": 128, "cnn": 128, "lstm": 32}


class LastStep(nn.Module):
    """nn.LSTM, then the last step's state through a Linear layer."""

    def __init__(self, dropout):
        super().__init__()
        self.lstm = nn.LSTM(256, 256, num_layers=2, batch_first=True, dropout=dropout)
        self.head = nn.Linear(256, 10)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


class VariationalCells(nn.Module):
    """Two nn.LSTMCell layers unrolled by hand, with variational masks (one per sequence)."""

    def __init__(self, p):
        super().__init__()
        self.p = p
        self.cells = nn.ModuleList([nn.LSTMCell(256, 256), nn.LSTMCell(256, 256)])
        self.head = nn.Linear(256, 10)

    def mask(self, b, n, like):
        if not self.training or self.p == 0:
            return None
        return torch.bernoulli(torch.full((b, n), 1 - self.p, dtype=like.dtype)) / (1 - self.p)

    def forward(self, x):
        b, t, _ = x.shape
        seq = x
        for cell in self.cells:
            m_in, m_h = self.mask(b, seq.shape[2], x), self.mask(b, 256, x)
            h = torch.zeros(b, 256)
            c = torch.zeros(b, 256)
            outs = []
            for s in range(t):
                xs = seq[:, s] if m_in is None else seq[:, s] * m_in
                hs = h if m_h is None else h * m_h
                h, c = cell(xs, (hs, c))
                outs.append(h)
            seq = torch.stack(outs, 1)
        return self.head(seq[:, -1])


def model(task: str, dropout: bool) -> nn.Module:
    p_in, p_h = (0.2, 0.5) if dropout else (0.0, 0.0)
    if task == "lstm":
        return LastStep(0.25 if dropout else 0.0)
    if task == "lstm-cell":
        return VariationalCells(0.25 if dropout else 0.0)
    if task == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(3136, 1024), nn.ReLU(), nn.Dropout(p_h), nn.Linear(1024, 10),
        )
    return nn.Sequential(
        nn.Dropout(p_in), nn.Linear(784, 1024), nn.ReLU(), nn.Dropout(p_h),
        nn.Linear(1024, 1024), nn.ReLU(), nn.Dropout(p_h), nn.Linear(1024, 10),
    )


def train_rate(task, x, y, batch, steps, dropout):
    torch.manual_seed(0)
    m = model(task, dropout)
    m.train()
    opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    batches = x.shape[0] // batch
    warmup = 3
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


def infer_rate(task, x, batches):
    m = model(task, True)
    m.eval()
    with torch.inference_mode():
        m(x)
        start = time.perf_counter()
        for _ in range(batches):
            m(x)
    return batches * x.shape[0] / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", choices=sorted(TASKS), default="mlp")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int)
    ap.add_argument("--train-steps", type=int)
    ap.add_argument("--infer-batch", type=int)
    ap.add_argument("--infer-batches", type=int)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    shape, steps, infer_batch, infer_batches = TASKS[a.task]
    a.batch = a.batch or BATCH[a.task]
    steps = a.train_steps or steps
    infer_batch = a.infer_batch or infer_batch
    infer_batches = a.infer_batches or infer_batches
    torch.set_num_threads(a.threads)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(a.batch * 16, *shape, generator=g)
    y = torch.randint(0, 10, (a.batch * 16,), generator=g)
    xi = torch.rand(infer_batch, *shape, generator=g)
    on, off, inf, cell = [], [], [], []
    for _ in range(a.rounds):
        on.append(train_rate(a.task, x, y, a.batch, steps, True))
        off.append(train_rate(a.task, x, y, a.batch, steps, False))
        inf.append(infer_rate(a.task, xi, infer_batches))
        if a.task == "lstm":
            cell.append(train_rate("lstm-cell", x, y, a.batch, steps, True))
    on_m, off_m = statistics.median(on), statistics.median(off)
    extra = {"variational_cell_train_samples_per_sec": statistics.median(cell)} if cell else {}
    print(json.dumps({
        **extra,
        "train_samples_per_sec": on_m,
        "train_samples_per_sec_no_dropout": off_m,
        "infer_samples_per_sec": statistics.median(inf),
        "dropout_overhead": 1.0 - on_m / off_m,
        "task": a.task,
        "threads": a.threads,
        "torch_version": torch.__version__,
    }))


if __name__ == "__main__":
    main()
