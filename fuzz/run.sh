#!/usr/bin/env bash
# Runs one target for SECONDS under nice, after seeding its corpus, and prints the summary
# line recorded in README.md: executions, time, corpus size, crash artifacts.
# Usage: fuzz/run.sh TARGET SECONDS   (logs to fuzz/logs/TARGET.log, not in git)
set -uo pipefail
cd "$(dirname "$0")"
target=$1 seconds=$2
./seed.sh >/dev/null
mkdir -p logs "artifacts/$target"
RUSTC_BOOTSTRAP=1 nice -n 10 cargo fuzz run "$target" -s none --release \
    -- -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -print_final_stats=1 \
    >"logs/$target.log" 2>&1
rc=$?
runs=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "logs/$target.log" | tail -1)
corp=$(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' "logs/$target.log" | tail -1)
crashes=$(ls "artifacts/$target" | wc -l)
echo "$target: rc=$rc ${runs:-no summary (see logs/$target.log)}; $corp; artifacts: $crashes"
