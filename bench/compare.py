#!/usr/bin/env python3
"""droplab against PyTorch on one benchmark task, alternating A B A B in one run.

Usage (from the repo root, after `cargo build --release` and with torch in bench/.venv):
    bench/.venv/bin/python bench/compare.py [--task mlp|cnn] [--rounds 7] [--threads 2]

Each round runs `droplab bench TASK --json --rounds 1` then
`bench/pytorch_peer.py --task TASK --rounds 1` (each measures training with dropout, training
without dropout, and inference, in that order); the order of the two peers alternates between
rounds. Prints a Markdown table of medians and ratios, and writes bench/results/TASK.json.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", choices=["mlp", "cnn", "lstm"], default="mlp")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, help="timed training steps per measurement (default 120 mlp, 20 cnn)")
    ap.add_argument("--droplab", default=os.path.join(ROOT, "target", "release", "droplab"))
    a = ap.parse_args()
    steps = a.steps or {"mlp": 120, "cnn": 20, "lstm": 20}[a.task]
    dl_cmd = [a.droplab, "bench", a.task, "--json", "--rounds", "1", "--threads", str(a.threads),
              "--steps", str(steps)]
    pt_cmd = [sys.executable, os.path.join(HERE, "pytorch_peer.py"), "--task", a.task, "--rounds", "1",
              "--threads", str(a.threads), "--train-steps", str(steps)]
    dl, pt = [], []
    for r in range(a.rounds):
        order = [(dl_cmd, dl), (pt_cmd, pt)] if r % 2 == 0 else [(pt_cmd, pt), (dl_cmd, dl)]
        for cmd, sink in order:
            sink.append(run(cmd))
        print(f"round {r + 1}/{a.rounds}: droplab {dl[-1]['train_samples_per_sec']:.0f} / "
              f"pytorch {pt[-1]['train_samples_per_sec']:.0f} train samples/s", file=sys.stderr)

    def med(rows, key):
        return statistics.median(row[key] for row in rows)

    keys = ["train_samples_per_sec", "train_samples_per_sec_no_dropout", "infer_samples_per_sec", "dropout_overhead"]
    summary = {
        "rounds": a.rounds,
        "task": a.task,
        "steps": steps,
        "threads": a.threads,
        "torch_version": pt[0].get("torch_version"),
        "droplab": {k: med(dl, k) for k in keys + ["train_gflops", "peak_gflops", "fraction_of_peak"]},
        "pytorch": {k: med(pt, k) for k in keys + [k for k in ["variational_cell_train_samples_per_sec"] if k in pt[0]]},
        "raw": {"droplab": dl, "pytorch": pt},
    }
    # Ratios of medians, and the median of per-round ratios (robust to drifts in machine speed).
    for k in keys[:3]:
        summary[f"ratio_{k}"] = summary["droplab"][k] / summary["pytorch"][k]
        summary[f"median_round_ratio_{k}"] = statistics.median(d[k] / p[k] for d, p in zip(dl, pt))
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", f"{a.task}.json"), "w") as f:
        json.dump(summary, f, indent=2)
    d, p = summary["droplab"], summary["pytorch"]
    print(f"| metric (medians of {a.rounds} alternating rounds, {a.threads} threads) | droplab | PyTorch {summary['torch_version']} | ratio |")
    print("|---|---:|---:|---:|")
    print(f"| training samples/s (with dropout) | {d['train_samples_per_sec']:.0f} | {p['train_samples_per_sec']:.0f} | {summary['ratio_train_samples_per_sec']:.2f}x |")
    print(f"| training samples/s (no dropout) | {d['train_samples_per_sec_no_dropout']:.0f} | {p['train_samples_per_sec_no_dropout']:.0f} | {summary['ratio_train_samples_per_sec_no_dropout']:.2f}x |")
    print(f"| inference samples/s | {d['infer_samples_per_sec']:.0f} | {p['infer_samples_per_sec']:.0f} | {summary['ratio_infer_samples_per_sec']:.2f}x |")
    print(f"| cost of dropout (share of a step) | {100 * d['dropout_overhead']:.1f} % | {100 * p['dropout_overhead']:.1f} % | |")
    if "variational_cell_train_samples_per_sec" in p:
        c = p["variational_cell_train_samples_per_sec"]
        summary["ratio_variational_vs_cell"] = d["train_samples_per_sec"] / c
        print(f"| training samples/s, variational dropout: droplab vs a PyTorch LSTMCell loop | {d['train_samples_per_sec']:.0f} | {c:.0f} | {d['train_samples_per_sec'] / c:.2f}x |")
        with open(os.path.join(HERE, "results", f"{a.task}.json"), "w") as f:
            json.dump(summary, f, indent=2)
    print(f"| training GFLOP/s / measured SGEMM peak | {d['train_gflops']:.1f} / {d['peak_gflops']:.1f} ({100 * d['fraction_of_peak']:.0f} %) | | |")


if __name__ == "__main__":
    main()
