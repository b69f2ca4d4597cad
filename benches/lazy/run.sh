#!/usr/bin/env bash
# Lazy group_by over 2 GB of Parquet on one local S3 server (issue #15): s3io's
# scan_parquet + streaming collect against polars-python's, time and peak RSS. From a fresh
# clone, with a Rust toolchain and python3:
#
#   bash benches/lazy/run.sh             # 3 repetitions, interleaved
#   bash benches/lazy/run.sh --reps 5
#
# Options after the script name go to lazy.py (--reps N, --timeout S, --out FILE).
#
# One-time setup, cached under target/ and shared with benches/compare: the venv with
# polars-python (target/compare-venv), the s3s-fs binary (target/compare-tools); then the
# release build of examples/lazy_group_by.rs (feature lazy) and the dataset (target/lazy-data).
set -euo pipefail
cd "$(dirname "$0")/../.."
command="bash benches/lazy/run.sh $*"
. benches/setup.sh
ensure_compare_venv
ensure_s3s_fs
venv=$compare_venv

step "s3io side: cargo build --release --example lazy_group_by --features lazy"
timed cargo build --release --example lazy_group_by --features lazy --quiet
target_dir=${CARGO_TARGET_DIR:-target}

exec "$venv/bin/python" benches/lazy/lazy.py \
    --example "$target_dir/release/examples/lazy_group_by" --s3s-fs "$PWD/$s3s_fs" \
    --command "$command" "$@"
