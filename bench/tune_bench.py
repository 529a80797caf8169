#!/usr/bin/env python3
"""Benchmarks of `droplab tune` on the embedded digits (the numbers in BENCHMARKS.md).

1. Search quality: the full grid of dropout rate x L2 (6 x 6 = 36 trials) against TPE and
   the Gaussian-process sampler with 12 trials (a third), over several search seeds. Every
   study uses the same 5 stratified folds of the same training pool, so CV scores compare.
2. Throughput: one study of N random trials with 1 worker and with 2 workers, alternated
   A B A B; medians of the wall times.
3. Coordination: the median milliseconds a trial spends in the store (claim, fold reports,
   finish), from study.json, on SQLite and (with --pg URL) PostgreSQL.

Usage: bench/tune_bench.py [--droplab target/release/droplab] [--pg postgres://...]
Writes bench/results/tune.json.
"""

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

BASE = [
    "--dataset", "digits", "--model", "mlp:64-256-256-10", "--epochs", "20",
    "--folds", "5", "--quiet",
]
SPACE = ["--space", "dropout.hidden=uniform(0.0,0.7)", "--space", "l2=loguniform(1e-6,1e-2)"]


def tune(droplab, out, extra):
    t = time.perf_counter()
    subprocess.run([droplab, "tune", *BASE, *SPACE, "--out", str(out), *extra], check=True)
    wall = time.perf_counter() - t
    j = json.loads((out / "study.json").read_text())
    return wall, j


def summary(j):
    b = j["best"]
    return {
        "best_cv": b["score"],
        "best_sd": b["score_std"],
        "best_params": b["params"],
        "trials": len(j["trials"]),
        "coordination_ms_median": j["coordination_ms_median"],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--droplab", default="target/release/droplab")
    ap.add_argument("--pg", default=None)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--throughput-trials", type=int, default=12)
    ap.add_argument("--parts", default="quality,throughput,pg",
                    help="comma-separated subset; results merge into an existing tune.json")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    droplab = str(Path(args.droplab).resolve())
    tmp = Path(tempfile.mkdtemp(prefix="droplab-tune-bench-"))
    dest = Path(__file__).resolve().parent / "results" / "tune.json"
    result = json.loads(dest.read_text()) if dest.exists() else {}
    try:
        if "quality" in parts:
            quality(droplab, tmp, args, result)
        if "throughput" in parts:
            throughput(droplab, tmp, args, result)
        if "pg" in parts and args.pg:
            postgres(droplab, tmp, args, result)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    dest.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {dest}")


def quality(droplab, tmp, args, result):
    """Grid against the Bayesian samplers (2 workers each: the machine's 2 cores)."""
    wall, j = tune(droplab, tmp / "grid", ["--sampler", "grid", "--grid-points", "6", "--workers", "2"])
    result["grid"] = {**summary(j), "seconds": wall}
    print("grid", result["grid"], flush=True)
    for kind in ["gp", "tpe"]:
        runs = []
        for seed in range(args.seeds):
            out = tmp / f"{kind}-{seed}"
            wall, j = tune(droplab, out, ["--sampler", kind, "--trials", "12", "--workers", "2",
                                          "--search-seed", str(seed)])
            runs.append({**summary(j), "seed": seed, "seconds": wall})
            print(kind, runs[-1], flush=True)
        result[kind] = runs


def throughput(droplab, tmp, args, result):
    """1 worker against 2, alternated: with default threads (a lone worker trains on both
    cores), and with one thread per worker in both."""
    out = {"trials": args.throughput_trials}
    for label, threads in [("default_threads", None), ("one_thread_per_worker", "1")]:
        times = {1: [], 2: []}
        for r in range(args.rounds):
            for w in [1, 2]:
                extra = ["--sampler", "random", "--trials", str(args.throughput_trials), "--workers", str(w)]
                if threads:
                    extra += ["--threads", threads]
                wall, j = tune(droplab, tmp / f"tp-{label}-{w}-{r}", extra)
                times[w].append(wall)
                print(f"{label}: workers {w} round {r}: {wall:.1f}s", flush=True)
        out[label] = {
            "seconds_1_worker": times[1],
            "seconds_2_workers": times[2],
            "ratio_of_medians": statistics.median(times[2]) / statistics.median(times[1]),
        }
    result["throughput"] = out


def postgres(droplab, tmp, args, result):
    """The coordination overhead on SQLite and on PostgreSQL (a server with default
    durability settings), 2 workers each."""
    wall, j = tune(droplab, tmp / "sqlite", ["--sampler", "random", "--trials", str(args.throughput_trials),
                                             "--workers", "2"])
    result["sqlite"] = {**summary(j), "seconds": wall}
    print("sqlite", result["sqlite"], flush=True)
    name = f"bench-{int(time.time())}"
    wall, j = tune(droplab, tmp / "pg", ["--sampler", "random", "--trials", str(args.throughput_trials),
                                         "--workers", "2", "--store", args.pg, "--name", name])
    result["postgres"] = {**summary(j), "seconds": wall}
    print("postgres", result["postgres"], flush=True)


if __name__ == "__main__":
    main()
