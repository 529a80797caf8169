#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer's coverage instrumentation on stable Rust and runs each
# for SECONDS (default 30) from the seed corpus in fuzz/corpus/TARGET. New inputs go to
# target/fuzz/corpus/TARGET (not the repository); a crash is written to target/fuzz/artifacts
# and fails the script. Usage: fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-30}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(csv idx ts config model_string safetensors checkpoint)
fi
work="$PWD/../target/fuzz"
# The flags cargo-fuzz passes with --sanitizer none: SanitizerCoverage's counters, PC table and
# comparison tracing, all stable codegen options.
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
# An explicit --target keeps these flags off build scripts and proc macros (run on the host).
host="$(rustc -vV | sed -n 's/^host: //p')"
cargo build --release --locked --target "$host" --target-dir "$work/build" --bins
for t in "${targets[@]}"; do
    mkdir -p "$work/corpus/$t" "$work/artifacts/$t"
    echo "fuzz $t: ${seconds}s"
    status=0
    "$work/build/$host/release/$t" "$work/corpus/$t" "corpus/$t" \
        -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=20 -max_len=65536 \
        -artifact_prefix="$work/artifacts/$t/" -print_final_stats=1 >"$work/$t.log" 2>&1 || status=$?
    grep -E "^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+ +DONE" "$work/$t.log" || true
    if [ "$status" -ne 0 ] || [ -n "$(ls -A "$work/artifacts/$t")" ]; then
        tail -n 40 "$work/$t.log" >&2
        echo "fuzz $t: failed (exit $status); inputs in $work/artifacts/$t" >&2
        exit 1
    fi
done
