"""The Gal & Ghahramani (2016) UCI protocol in PyTorch: a peer for `droplab paper run
gal2016-uci-SET` on the same splits, written from the paper's and its code's description.

Per split: each (dropout p, tau) of the set's grid trains on the first 80 % of the training
rows and is scored by Monte Carlo log-likelihood on the rest; the best pair is retrained on all
training rows and scored on the test rows. Network: dropout p on the inputs, Dense(n_hidden,
ReLU), dropout p, Dense(1); Glorot-uniform weights, zero biases; loss mean squared error on
standardized targets plus reg * sum(W^2) over the weight matrices, reg = l^2 (1 - p) / (2 N tau),
l = 0.01; Adam (lr 1e-3); features standardized on the training rows.

    bench/.venv/bin/python bench/uci_peer.py --data data/uci-gal2016/energy --splits 5 \
        --epochs 400 --batch-size 32 --mc 1000 --out peer.json
"""

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch


def read(path):
    return np.loadtxt(path, ndmin=1)


def train_and_score(xf, yf, xe, ye, p, tau, n_hidden, epochs, batch, mc, seed):
    torch.manual_seed(seed)
    mx, sx = xf.mean(0), xf.std(0)
    sx[sx == 0] = 1
    my, sy = yf.mean(), yf.std()
    xt = torch.tensor((xf - mx) / sx, dtype=torch.float32)
    yt = torch.tensor((yf - my) / sy, dtype=torch.float32)[:, None]
    xv = torch.tensor((xe - mx) / sx, dtype=torch.float32)
    n = xt.shape[0]
    reg = 0.01**2 * (1 - p) / (2.0 * n * tau)
    l1 = torch.nn.Linear(xt.shape[1], n_hidden)
    l2 = torch.nn.Linear(n_hidden, 1)
    for layer in (l1, l2):
        torch.nn.init.xavier_uniform_(layer.weight)
        torch.nn.init.zeros_(layer.bias)
    drop = torch.nn.Dropout(p)
    net = torch.nn.Sequential(drop, l1, torch.nn.ReLU(), torch.nn.Dropout(p), l2)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    net.train()
    for _ in range(epochs):
        perm = torch.randperm(n)
        for i in range(0, n, batch):
            idx = perm[i : i + batch]
            out = net(xt[idx])
            loss = ((out - yt[idx]) ** 2).mean() + reg * (l1.weight.pow(2).sum() + l2.weight.pow(2).sum())
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        net.train()  # Monte Carlo dropout
        samples = torch.stack([net(xv)[:, 0] for _ in range(mc)]).double().numpy() * sy + my
    mean = samples.mean(0)
    rmse = float(np.sqrt(((ye - mean) ** 2).mean()))
    a = -0.5 * tau * (ye[None, :] - samples) ** 2
    m = a.max(0)
    lse = m + np.log(np.exp(a - m).sum(0))
    ll = float((lse - math.log(mc) - 0.5 * math.log(2 * math.pi) + 0.5 * math.log(tau)).mean())
    return rmse, ll


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--splits", type=int, default=20)
    ap.add_argument("--epochs", type=int, default=400)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--mc", type=int, default=1000)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    d = Path(a.data)
    data = read(d / "data.txt")
    feats = read(d / "index_features.txt").astype(int)
    target = int(read(d / "index_target.txt")[0])
    rates = read(d / "dropout_rates.txt")
    taus = read(d / "tau_values.txt")
    n_hidden = int(read(d / "n_hidden.txt")[0])
    x, y = data[:, feats], data[:, target]
    res = []
    for k in range(a.splits):
        t0 = time.time()
        tr = read(d / f"index_train_{k}.txt").astype(int)
        te = read(d / f"index_test_{k}.txt").astype(int)
        cut = int(0.8 * len(tr))
        fit, val = tr[:cut], tr[cut:]
        best = None
        for p in rates:
            for tau in taus:
                _, ll = train_and_score(x[fit], y[fit], x[val], y[val], p, tau, n_hidden, a.epochs, a.batch_size, a.mc, k)
                if best is None or ll > best[2]:
                    best = (p, tau, ll)
        rmse, ll = train_and_score(x[tr], y[tr], x[te], y[te], best[0], best[1], n_hidden, a.epochs, a.batch_size, a.mc, k)
        res.append({"split": k, "dropout": best[0], "tau": best[1], "rmse": rmse, "log_likelihood": ll, "seconds": time.time() - t0})
        print(json.dumps(res[-1]), flush=True)
    json.dump(res, open(a.out, "w"), indent=1)


if __name__ == "__main__":
    main()
