#!/usr/bin/env bash
# s3io against an older s3io, same run, same server: the 100 MB CSV download + decode and
# encode + upload, interleaved (old, new, new, old, ...), medians of REPS runs each. This is
# how issue #14's rule "beat s3io's own 2026-11-22 times by at least 25%" is checked: two
# builds on one machine in one run, not figures from two days on two machines.
#
#   bash benches/compare/ab.sh OLD_COMPARE_BIN [REPS]     # default 7 repetitions
#
# OLD_COMPARE_BIN is the compare bench of an older commit, built with
# `cargo bench --no-run --bench compare` in a worktree of it; it must warm up before its
# clock as today's does (one tiny GET of S3_WARMUP_KEY and one tiny PUT; the 2026-11-22
# harness did not, so its connect() gets those two calls added, nothing else). Needs a run
# of benches/compare/run.sh first (today's compare binary, s3s-fs, the objects).
set -euo pipefail
cd "$(dirname "$0")/../.."
old=${1:?usage: $0 OLD_COMPARE_BIN [REPS]}
reps=${2:-7}
new=$(cat target/compare-bin)
key=csv100.csv
file=target/compare-data/$key
root=target/compare-ab
port=39998
. benches/compare/s3s-fs-server.sh
# Uploaded through the server, as compare.py does (s3s-fs keeps its ETag then).
"$new" put-bytes --key "$key" --file "$file" > /dev/null
out=$root/runs.tsv
: > "$out"
measure() { # side bin
    local get put
    get=$("$2" get --key "$key" --frame)
    put=$("$2" put --key ab-put.csv --file "$file" --frame)
    printf '%s\tget\t%s\n%s\tput\t%s\n' "$1" "$get" "$1" "$put"
}
. benches/compare/ab-interleave.sh
interleave "$reps"
python3 - "$out" "$reps" <<'EOF'
import json, statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
t = {}
for side, op, js in rows:
    t.setdefault((op, side), []).append(json.loads(js)["wall_s"])
print(f"\nmedians of {sys.argv[2]} interleaved runs, csv100.csv (100 MB), s3s-fs:")
print("| operation | old s3io | new s3io | new ÷ old | faster by | ≥ 25 % faster |")
print("|---|---:|---:|---:|---:|---|")
for op, name in (("get", "download + decode"), ("put", "encode + upload")):
    o, n = statistics.median(t[(op, "old")]), statistics.median(t[(op, "new")])
    by = 1 - n / o
    print(f"| {name} | {o:.3f} s | {n:.3f} s | {n / o:.2f} | {by:.0%} | {'yes' if by >= 0.25 else 'NO'} |")
EOF
