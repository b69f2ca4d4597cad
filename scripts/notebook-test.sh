#!/usr/bin/env bash
# Runs the example notebooks headless on evcxr and fails if any cell errors or panics, or an
# expected output (each code cell's `expect` metadata) is missing. Prints how long the first
# (compiling) cell and the later cells took.
#
#   bash scripts/notebook-test.sh            # the Jupyter kernel (evcxr_jupyter) via nbconvert
#   bash scripts/notebook-test.sh --repl     # the evcxr REPL: the same cells, plain text only
#   bash scripts/notebook-test.sh --save     # also writes the executed notebooks back, with
#                                            # their outputs (Jupyter only)
#   bash scripts/notebook-test.sh examples/notebook-cells.ipynb   # only the notebooks named
#
# The notebooks: examples/notebook.ipynb (a tour) and examples/notebook-cells.ipynb (async and
# blocking connectors built in one cell and used in later ones; issue #19).
# Installing evcxr_jupyter or evcxr_repl compiles rust-analyzer: about 30 minutes on 2 cores,
# once, each (45 for both). Set EVCXR_ROOT to reuse an install (default: target/evcxr).
# Both share the build folder of the notebooks' code (S3IO_NOTEBOOK_BUILD, default
# ~/.cache/s3io-notebook-evcxr), so a warm one makes the first cell take seconds, not minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
save=0 mode=jupyter notebooks=()
for arg in "$@"; do
    case $arg in
        --save) save=1 ;;
        --repl) mode=repl ;;
        *.ipynb) notebooks+=("$arg") ;;
        *) echo "unknown argument $arg"; exit 2 ;;
    esac
done
[ ${#notebooks[@]} -gt 0 ] || notebooks=(examples/notebook.ipynb examples/notebook-cells.ipynb)

evcxr_root=${EVCXR_ROOT:-$root/target/evcxr}
# The binary of `crate`, from the PATH, EVCXR_ROOT, or installed there now.
tool() {
    local bin=$1 crate=$2
    if [ -x "$evcxr_root/bin/$bin" ]; then
        echo "$evcxr_root/bin/$bin"
    elif command -v "$bin" >/dev/null 2>&1; then
        command -v "$bin"
    else
        echo "== installing $crate into $evcxr_root (about 30 minutes on 2 cores)" >&2
        cargo install --locked "$crate" --root "$evcxr_root" >&2
        echo "$evcxr_root/bin/$bin"
    fi
}
if [ "$mode" = repl ]; then
    evcxr=$(tool evcxr evcxr_repl)
else
    evcxr=$(tool evcxr_jupyter evcxr_jupyter)
fi
echo "evcxr: $evcxr ($("$evcxr" --version 2>/dev/null || echo unknown version))"

# evcxr state in folders of our own, so runs are hermetic. evcxr's build folder holds a
# package of its own, which cargo would take for a stray member of this repository's
# workspace (whose member "." claims every folder below it) and refuse to build: it lives
# outside the repository, and survives between runs there.
state=$root/target/notebook
export EVCXR_CONFIG_DIR=$state/evcxr-config
export EVCXR_TMPDIR=${S3IO_NOTEBOOK_BUILD:-${XDG_CACHE_HOME:-$HOME/.cache}/s3io-notebook-evcxr}
export NO_COLOR=1
mkdir -p "$EVCXR_CONFIG_DIR" "$EVCXR_TMPDIR"
# Each cell is a library linked against the toolchain's libstd.so. evcxr 0.22 loads it from a
# folder one level above where rustc computed its rpath from, which misses libstd whenever the
# build folder and the toolchain share a parent below `/` (as under $HOME): say where it is.
sysroot_lib="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/lib"
export LD_LIBRARY_PATH="$sysroot_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
check="python3 scripts/notebook-check.py"

if [ "$mode" = jupyter ]; then
    venv=$root/target/notebook-venv
    if [ ! -x "$venv/bin/jupyter" ]; then
        echo "== installing jupyter nbconvert into $venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check nbconvert nbclient ipykernel
    fi
    # A kernel spec of our own.
    export JUPYTER_PATH=$state/jupyter
    export JUPYTER_DATA_DIR=$JUPYTER_PATH
    mkdir -p "$JUPYTER_PATH"
    "$evcxr" --install >/dev/null
fi

failed=0
for notebook in "${notebooks[@]}"; do
    name=$(basename "$notebook" .ipynb)
    echo "== executing $notebook ($mode)"
    start=$(date +%s)
    if [ "$mode" = jupyter ]; then
        out=$state/$name-executed.ipynb
        # Runtime errors and panics exit 0 and show only in the outputs: the check reads them.
        "$venv/bin/jupyter" nbconvert --to notebook --execute \
            --ExecutePreprocessor.kernel_name=rust \
            --ExecutePreprocessor.timeout=3600 \
            --output "$out" "$notebook" || { failed=1; rm -f "$out"; }
        echo "nbconvert took $(( $(date +%s) - start )) s"
        [ -f "$out" ] || { echo "FAIL $notebook: nbconvert wrote no executed notebook"; continue; }
        $check jupyter "$notebook" "$out" || failed=1
        if [ "$save" = 1 ]; then
            cp "$out" "$notebook"
            echo "saved the executed notebook to $notebook"
        fi
    else
        # The REPL runs from the notebook's folder, so `:dep s3io = { path = ".." }` resolves
        # as in Jupyter. It exits 0 whatever happened: the check reads its output.
        input=$state/$name-repl-input.txt
        $check repl-input "$notebook" > "$input"
        (cd "$(dirname "$notebook")" && "$evcxr" --disable-readline --ide-mode \
            < "$input" > "$state/$name-repl-stdout.txt" 2> "$state/$name-repl-stderr.txt")
        echo "the REPL took $(( $(date +%s) - start )) s"
        $check repl "$notebook" "$state/$name-repl-stdout.txt" \
            "$state/$name-repl-stderr.txt" || failed=1
    fi
done
exit $failed
