#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from fixtures/: the well-formed files of each format and the
# hostile ones. Excel and compression inputs get the selector byte their targets read first
# (workbooks: 0 xlsx, 1 xlsm, 2 xlsb, 3 xls, 4 ods; compression: 0 gzip, 1 zstd, 2 bzip2, 3 xz).
# Files over 100 KiB are left out: they would raise libFuzzer's -max_len for every input and
# slow each run, and the hostile test already runs them. Idempotent; the corpus is not in git.
set -euo pipefail
cd "$(dirname "$0")"
fx=../fixtures
max=$((100 * 1024))

# seed TARGET PREFIX_BYTE(or -) FILE...
seed() {
    local target=$1 prefix=$2
    shift 2
    mkdir -p "corpus/$target"
    local f name
    for f in "$@"; do
        [ -f "$f" ] || continue
        if [ "$(stat -c %s "$f")" -gt "$max" ]; then
            echo "skip (over 100 KiB): $f"
            continue
        fi
        name="seed-${prefix#-}$(basename "$f" | tr ' ' '_')"
        if [ "$prefix" = - ]; then
            cp "$f" "corpus/$target/$name"
        else
            { printf "\\x$prefix"; cat "$f"; } >"corpus/$target/$name"
        fi
    done
}

shopt -s nullglob
seed csv - "$fx"/csv/* "$fx"/csv/*/* "$fx"/hostile/csv_*
seed tsv - "$fx"/tsv/*
seed ndjson - "$fx"/ndjson/* "$fx"/hostile/ndjson_*
seed json - "$fx"/json/* "$fx"/hostile/json_*
seed parquet - "$fx"/parquet/* "$fx"/hostile/parquet_*
seed ipc - "$fx"/arrow/* "$fx"/hostile/arrow_*
# Pickles: builtins, and pandas/numpy objects as pandas 1.5-3 and numpy 1-2 write them.
seed pickle - "$fx"/pickle/* "$fx"/hostile/pickle_* "$fx"/pandas-pickles/*/*.pkl
seed text - "$fx"/text/* "$fx"/hostile/text_*
seed excel 00 "$fx"/xlsx/*.xlsx "$fx"/workbooks/*.xlsx "$fx"/hostile/xlsx_*
seed excel 01 "$fx"/workbooks/*.xlsm
# No xlsb fixture: xlsx ones give the xlsb reader a zip container to start from.
seed excel 02 "$fx"/workbooks/*.xlsb "$fx"/xlsx/xlsxwriter.xlsx
seed excel 03 "$fx"/workbooks/*.xls "$fx"/hostile/xls_*
seed excel 04 "$fx"/workbooks/*.ods
seed compression 00 "$fx"/compressed/*.gz "$fx"/hostile/gzip_*
seed compression 01 "$fx"/compressed/*.zst "$fx"/hostile/zstd_*
seed compression 02 "$fx"/compressed/*.bz2 "$fx"/hostile/bzip2_*
seed compression 03 "$fx"/compressed/*.xz "$fx"/hostile/xz_*
# Tables into frames: 00 JSON, 01 NDJSON, 02 pickle.
seed frame 00 "$fx"/json/* "$fx"/hostile/json_*
seed frame 01 "$fx"/ndjson/* "$fx"/hostile/ndjson_*
seed frame 02 "$fx"/pickle/* "$fx"/hostile/pickle_* "$fx"/pandas-pickles/*/*.pkl
seed sheets 00 "$fx"/xlsx/*.xlsx "$fx"/workbooks/*.xlsx
seed sheets 03 "$fx"/workbooks/*.xls
seed sheets 04 "$fx"/workbooks/*.ods
# Small files of the output-amplifying shapes (the corpus's own are over 100 KiB): a shared
# string in many cells, records with a fresh key each, a wide CSV.
python3 - "$fx/hostile" <<'PY'
import os, pickle, sys
sys.path.insert(0, sys.argv[1])
import generate as g
def put(target, name, data):
    os.makedirs(f"corpus/{target}", exist_ok=True)
    with open(f"corpus/{target}/seed-amp-{name}", "wb") as f:
        f.write(data)
rows = "".join(f'<row r="{r}"><c r="A{r}" t="s"><v>0</v></c></row>' for r in range(1, 201))
sheet = ('<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
         f'spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>').encode()
sst = (b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
       b'2006/main"><si><t>' + b"x" * 5000 + b"</t></si></sst>")
book = g.xlsx(sheet, shared_strings=sst)
put("excel", "shared_string.xlsx", b"\x00" + book)
put("sheets", "shared_string.xlsx", b"\x00" + book)
lines = [f'{{"k{i}":{i}}}' for i in range(300)]
put("ndjson", "fresh_keys.jsonl", "\n".join(lines).encode())
put("frame", "fresh_keys.jsonl", b"\x01" + "\n".join(lines).encode())
put("frame", "fresh_keys.json", b"\x00" + ("[" + ",".join(lines) + "]").encode())
put("frame", "fresh_keys.pkl", b"\x02" + pickle.dumps([{f"k{i}": i} for i in range(300)], protocol=4))
put("csv", "wide.csv", b"," * 20000 + b"\n")
PY
for d in corpus/*/; do echo "$d: $(ls "$d" | wc -l) files"; done
