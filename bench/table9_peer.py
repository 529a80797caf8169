#!/usr/bin/env python3
"""The PyTorch peer of the Table 9 recipes (recipes/srivastava2014-table9-*.toml).

Trains the same network on the same real MNIST split with the same schedule, so that
droplab's learning curve can be laid beside PyTorch's at equal settings:
  784-1024-1024-2048-10 ReLU, He-normal weights, zero biases; batch 100, shuffled each epoch;
  SGD with undampened momentum (v = mu v + g; w -= lr v, PyTorch's SGD with dampening 0);
  lr0 / (1 + t / 10^4) and momentum 0.99 - 0.49 exp(-t / 10^5) at update t;
  dropout 0.2 on the inputs and 0.5 on the hidden units (inverted, as droplab's recipes);
  L2 on the weights only (loss l2 / 2 sum w^2) and/or max-norm on every unit's incoming
  weights, output layer included, applied after each update;
  training = the first 60,000 - val images of the training file, validation = the last val.
Prints one JSON line per epoch (validation accuracy, seconds) and a last one with the test
error. Needs torch (keep it in a venv, out of CI):
  python3 bench/table9_peer.py --row dropout-maxnorm --epochs 80 --data-dir data/mnist
"""
import argparse
import json
import math
import time
from pathlib import Path

import torch
from torch import nn

ROWS = {
    # input dropout, hidden dropout, l2, max-norm
    "l2": (0.0, 0.0, 1e-4, None),
    "maxnorm": (0.0, 0.0, 0.0, 3.0),
    "dropout-l2": (0.2, 0.5, 1e-4, None),
    "dropout-maxnorm": (0.2, 0.5, 0.0, 3.0),
}


def idx(path: Path) -> torch.Tensor:
    raw = path.read_bytes()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    data = torch.frombuffer(bytearray(raw[4 + 4 * dims :]), dtype=torch.uint8)
    return data.reshape(shape)


def load(data_dir: Path, name: str):
    x = idx(data_dir / f"{name}-images-idx3-ubyte").reshape(-1, 784).float() / 255.0
    y = idx(data_dir / f"{name}-labels-idx1-ubyte").long()
    return x, y


def net(p_in: float, p_hidden: float) -> nn.Sequential:
    widths = [784, 1024, 1024, 2048, 10]
    layers = [nn.Dropout(p_in)] if p_in > 0 else []
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        lin = nn.Linear(a, b)
        nn.init.normal_(lin.weight, 0.0, math.sqrt(2.0 / a))
        nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
            if p_hidden > 0:
                layers.append(nn.Dropout(p_hidden))
    return nn.Sequential(*layers)


def accuracy(model, x, y) -> float:
    model.eval()
    with torch.no_grad():
        right = sum(
            (model(x[i : i + 1000]).argmax(1) == y[i : i + 1000]).sum().item()
            for i in range(0, len(x), 1000)
        )
    model.train()
    return right / len(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--row", choices=sorted(ROWS), default="dropout-maxnorm")
    ap.add_argument("--epochs", type=int, default=80)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--val-size", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data-dir", type=Path, default=Path("data/mnist"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    x, y = load(args.data_dir, "train")
    xt, yt = load(args.data_dir, "t10k")
    n = len(x) - args.val_size
    xtr, ytr, xv, yv = x[:n], y[:n], x[n:], y[n:]
    p_in, p_hidden, l2, max_norm = ROWS[args.row]
    model = net(p_in, p_hidden)
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
    opt = torch.optim.SGD(
        [{"params": weights, "weight_decay": l2}, {"params": biases, "weight_decay": 0.0}],
        lr=args.lr,
        momentum=0.5,
    )
    loss_fn = nn.CrossEntropyLoss()
    t = 0
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        order = torch.randperm(n)
        for i in range(0, n - 99, 100):
            batch = order[i : i + 100]
            for g in opt.param_groups:
                g["lr"] = args.lr / (1.0 + t / 1e4)
                g["momentum"] = 0.99 - 0.49 * math.exp(-t / 1e5)
            opt.zero_grad(set_to_none=True)
            loss_fn(model(xtr[batch]), ytr[batch]).backward()
            opt.step()
            if max_norm is not None:
                with torch.no_grad():
                    for w in weights:
                        w.renorm_(2, 0, max_norm)
            t += 1
        secs = time.perf_counter() - start
        val = accuracy(model, xv, yv) if args.val_size else None
        print(json.dumps({"epoch": epoch, "val_acc": val, "secs": round(secs, 2)}), flush=True)
    test_error = 100.0 * (1.0 - accuracy(model, xt, yt))
    print(json.dumps({"row": args.row, "epochs": args.epochs, "test_error": round(test_error, 2)}))


if __name__ == "__main__":
    main()
