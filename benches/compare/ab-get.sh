#!/usr/bin/env bash
# One download + decode, two s3io builds, same run, same server: KEY (a file of
# target/compare-data/) fetched by OLD_COMPARE_BIN and by today's compare binary in turn
# (old first in odd runs, new first in even ones), REPS times each; medians of wall time
# and of peak RSS (VmHWM, the whole process). FRAME=1 reads it with `--frame`
# (download_frame), otherwise as `download` does.
#
#   bash benches/compare/ab-get.sh OLD_COMPARE_BIN KEY [REPS]     # default 7 repetitions
#
# OLD_COMPARE_BIN is the compare bench of an older commit (`cargo bench --no-run --bench
# compare` there, or a copy of target/compare-bin's file taken before a change). Needs a
# run of benches/compare/run.sh first (today's compare binary, s3s-fs, the objects).
set -euo pipefail
cd "$(dirname "$0")/../.."
old=${1:?usage: $0 OLD_COMPARE_BIN KEY [REPS]}
key=${2:?usage: $0 OLD_COMPARE_BIN KEY [REPS]}
reps=${3:-7}
new=$(cat target/compare-bin)
frame=() && [ "${FRAME:-0}" = 1 ] && frame=(--frame)
root=target/compare-ab-get
port=39996
. benches/compare/s3s-fs-server.sh
"$new" put-bytes --key "$key" --file "target/compare-data/$key" > /dev/null
out=$root/runs.tsv
: > "$out"
measure() { # side bin
    printf '%s\t%s\n' "$1" "$("$2" get --key "$key" "${frame[@]}")"
}
. benches/compare/ab-interleave.sh
interleave "$reps"
python3 - "$out" "$reps" "$key" <<'PY'
import json, statistics, sys
t = {}
for line in open(sys.argv[1]):
    side, js = line.rstrip("\n").split("\t", 1)
    r = json.loads(js)
    t.setdefault(side, []).append((r["wall_s"], r["vm_hwm_kb"] / 1024))
print(f"\nmedians of {sys.argv[2]} interleaved runs, {sys.argv[3]}, s3s-fs:")
print("| build | wall | peak RSS (VmHWM) |")
print("|---|---:|---:|")
for side in ("old", "new"):
    wall = statistics.median(w for w, _ in t[side])
    rss = statistics.median(m for _, m in t[side])
    print(f"| {side} | {wall:.3f} s | {rss:.0f} MiB |")
PY
