#!/usr/bin/env bash
# Runs examples/notebook.ipynb headless on the evcxr Jupyter kernel and fails if any cell
# errors or an expected output is missing. Prints how long the first (compiling) cell and
# the later cells took.
#
#   bash scripts/notebook-test.sh            # installs what it needs, runs, checks
#   bash scripts/notebook-test.sh --save     # also writes the executed notebook back, with
#                                            # its outputs, to examples/notebook.ipynb
#
# Installing evcxr_jupyter compiles rust-analyzer: about 30 minutes on 2 cores, once.
# Set EVCXR_ROOT to reuse an install (default: target/evcxr).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
save=0
[ "${1:-}" = "--save" ] && save=1

evcxr_root=${EVCXR_ROOT:-$root/target/evcxr}
if command -v evcxr_jupyter >/dev/null 2>&1; then
    evcxr=$(command -v evcxr_jupyter)
elif [ -x "$evcxr_root/bin/evcxr_jupyter" ]; then
    evcxr=$evcxr_root/bin/evcxr_jupyter
else
    echo "== installing evcxr_jupyter into $evcxr_root (about 30 minutes on 2 cores)"
    cargo install --locked evcxr_jupyter --root "$evcxr_root"
    evcxr=$evcxr_root/bin/evcxr_jupyter
fi
echo "evcxr: $evcxr ($("$evcxr" --version 2>/dev/null || echo unknown version))"

venv=$root/target/notebook-venv
if [ ! -x "$venv/bin/jupyter" ]; then
    echo "== installing jupyter nbconvert into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check nbconvert nbclient ipykernel
fi

# A kernel spec of our own, and evcxr state in folders of our own, so runs are hermetic.
export JUPYTER_PATH=$root/target/notebook-jupyter
export JUPYTER_DATA_DIR=$JUPYTER_PATH
export EVCXR_CONFIG_DIR=$root/target/notebook-evcxr-config
export EVCXR_TMPDIR=$root/target/notebook-evcxr-build
mkdir -p "$JUPYTER_PATH" "$EVCXR_CONFIG_DIR" "$EVCXR_TMPDIR"
"$evcxr" --install >/dev/null

out=$root/target/notebook-executed.ipynb
echo "== executing examples/notebook.ipynb"
start=$(date +%s)
"$venv/bin/jupyter" nbconvert --to notebook --execute \
    --ExecutePreprocessor.kernel_name=rust \
    --ExecutePreprocessor.timeout=3600 \
    --output "$out" examples/notebook.ipynb
echo "nbconvert took $(( $(date +%s) - start )) s"

# nbconvert exits 0 on runtime errors and panics: read the executed notebook.
"$venv/bin/python" - "$out" <<'PY'
import json, sys
from datetime import datetime

nb = json.load(open(sys.argv[1]))
code = [c for c in nb["cells"] if c["cell_type"] == "code"]
problems, texts = [], []
for i, cell in enumerate(code):
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "error":
            problems.append(f"cell {i}: error output: {out.get('ename')}: {out.get('evalue')}")
        text = "".join(out.get("text", "")) if kind == "stream" else ""
        data = out.get("data", {})
        text += "".join(data.get("text/plain", "")) + "".join(data.get("text/html", ""))
        if kind == "stream" and out.get("name") == "stderr" and ("error" in text.lower() or "panicked" in text):
            problems.append(f"cell {i}: stderr: {text.strip()[:300]}")
        texts.append((i, text))

def cell_has(i, needle):
    return any(needle in t for j, t in texts if j == i)

expected = [
    (2, "notebook-demo"),                    # list_buckets shows the bucket
    (3, "sales/2024.csv"), (3, "sales/2024.xlsx"), (3, "<table"),   # objects as a table
    (4, "shape: (2, 4)"), (4, "North"),      # the filtered frame
    (5, "download s3://notebook-demo/sales/2025.csv (csv): NoSuchKey"),
    (5, "kind: NotFound"),
]
for i, needle in expected:
    if not cell_has(i, needle):
        problems.append(f"cell {i}: expected output containing {needle!r}")

def seconds(cell):
    t = cell.get("metadata", {}).get("execution", {})
    start, end = t.get("iopub.execute_input"), t.get("shell.execute_reply")
    if not (start and end):
        return None
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
    return (parse(end) - parse(start)).total_seconds()

times = [seconds(c) for c in code]
print("cell times (s):", ", ".join("?" if t is None else f"{t:.1f}" for t in times))
if times and times[0] is not None:
    later = [t for t in times[1:] if t is not None]
    print(f"first cell (compiles s3io): {times[0]:.1f} s; later cells: "
          f"{min(later):.1f} to {max(later):.1f} s" if later else "")
for p in problems:
    print("FAIL", p)
print(f"{len(expected) - sum(p.startswith('cell') and 'expected' in p for p in problems)} expected outputs found, {len(problems)} problems")
sys.exit(1 if problems else 0)
PY

if [ "$save" = 1 ]; then
    cp "$out" examples/notebook.ipynb
    echo "saved the executed notebook to examples/notebook.ipynb"
fi
