#!/usr/bin/env bash
# Side-by-side benchmark of s3io against boto3 + pandas, polars (Python) and awswrangler on
# one local S3 server. From a fresh clone, with a Rust toolchain and python3:
#
#   bash benches/compare/run.sh              # 10 MB and 100 MB CSV, xlsx, JSON, NDJSON,
#                                            # Parquet, pickles; the sweep; 3 reps
#   bash benches/compare/run.sh --with-1g    # ... and the 1 GB CSV (one rep: --reps-1g N)
#   bash benches/compare/run.sh --quick      # small objects, one rep: checks that all runs
#   bash benches/compare/run.sh --only xlsx  # only cases whose label contains "xlsx" (and
#                                            # the no-op baseline); --only scaling: the sweep
#   bash benches/compare/run.sh --no-scaling # without the sweep over parts in flight
#
# Options after the script name go to compare.py (--reps N, --timeout S, --out FILE, ...):
#   --no-scaling   skip the sweep over parts in flight (1, 2, 4, 8, 16; s3io's get, get-bytes
#                  and put-bytes with --concurrency N, boto3's with max_concurrency=N) over
#                  the 100 MB CSV (10 MB with --quick)
#   --out FILE     the results markdown: the table, the targets of issue 14, the earlier
#                  targets, the scaling tables (default benches/compare/results.md; with
#                  --quick target/compare-quick/results.md, so a check leaves the results be)
#   --plots DIR    where scaling-size.png and scaling-concurrency.png (matplotlib) go
#                  (default benches/; with --quick, --out or --only: beside the results)
#
# S3IO_COMPARE_SERVER=embedded skips the s3s-fs install and serves the same s3s-fs 0.14.1
# library from the compare binary instead.
#
# One-time setup, cached under target/: a venv with the pinned contenders
# (target/compare-venv), the s3s-fs binary (target/compare-tools), the release build of the
# s3io side (target/release), the generated objects (target/compare-data; objects added
# since are generated when missing, the others kept).
set -euo pipefail
cd "$(dirname "$0")/../.."
here=benches/compare
command="bash $here/run.sh $*"

. benches/setup.sh
ensure_compare_venv
venv=$compare_venv

server_args=()
if [ "${S3IO_COMPARE_SERVER:-s3s-fs}" = "s3s-fs" ]; then
    ensure_s3s_fs
    server_args=(--s3s-fs "$PWD/$s3s_fs")
fi

step "s3io side: cargo bench --no-run --bench compare (release)"
build_rust() {
    cargo bench --no-run --bench compare --message-format=json-render-diagnostics \
        | "$venv/bin/python" -c '
import json, sys
exe = [m["executable"] for m in map(json.loads, sys.stdin)
       if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "compare"
       and m.get("executable")]
open("target/compare-bin", "w").write(exe[-1])'
}
timed build_rust
rust_bin=$(cat target/compare-bin)

exec "$venv/bin/python" "$here/compare.py" --rust-bin "$rust_bin" "${server_args[@]}" \
    --command "$command" "$@"
