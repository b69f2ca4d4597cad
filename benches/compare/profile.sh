#!/usr/bin/env bash
# Where the CPU of one CSV download + decode (or encode + upload) goes, against the same
# s3s-fs server the comparison uses: the client's and the server's CPU time over three runs
# of the operation and of the bare transfer, then `perf record -a -g` of one operation,
# reported by thread name and by symbol.
#
#   bash benches/compare/profile.sh [KEY] [get|put]   # default csv100.csv get, the object
#                                                     # from target/compare-data
#
# Needs a run of benches/compare/run.sh first (the compare binary, s3s-fs, the objects), and
# perf. The object is uploaded through the server first, as compare.py does (s3s-fs keeps its
# ETag then; a file dropped into its folder is hashed again on every GET).
set -euo pipefail
cd "$(dirname "$0")/../.."
key=${1:-csv100.csv}
direction=${2:-get}
case $direction in
    get) ops=("get --key $key --frame" "get-bytes --key $key") ;;
    put) file=target/compare-data/$key
         ops=("put --key $key --file $file --frame" "put-bytes --key $key --file $file") ;;
    *) echo "usage: $0 [KEY] [get|put]" >&2; exit 2 ;;
esac
root=target/compare-profile
port=39999
. benches/compare/s3s-fs-server.sh
bin=$(cat target/compare-bin)
"$bin" put-bytes --key "$key" --file "target/compare-data/$key" > /dev/null
server_cpu_ms() { awk '{print ($14 + $15) * 10}' "/proc/$server/stat"; }
for op in "${ops[@]}"; do
    for _ in 1 2 3; do
        before=$(server_cpu_ms)
        client=$({ /usr/bin/time -f "client user %U s, sys %S s, wall %e s" "$bin" $op \
            > /dev/null; } 2>&1)
        echo "$op: $client; server CPU $(( $(server_cpu_ms) - before )) ms"
    done
done
perf record -q -a -g -o "$root/perf.data" -- "$bin" ${ops[0]} > /dev/null 2>&1
echo "== by thread name"
perf report -i "$root/perf.data" --sort comm --no-children 2>/dev/null | grep -E '^ +[0-9]' | head -8
echo "== by symbol"
perf report -i "$root/perf.data" --sort dso,symbol --no-children 2>/dev/null \
    | grep -E '^ +[0-9]' | head -20
