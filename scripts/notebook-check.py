#!/usr/bin/env python3
"""The notebook check's reading side, for scripts/notebook-test.sh (standard library only).

  notebook-check.py repl-input NOTEBOOK          the REPL's input: one line a code cell
  notebook-check.py jupyter NOTEBOOK EXECUTED    checks a notebook nbconvert executed
  notebook-check.py repl NOTEBOOK STDOUT STDERR  checks what `evcxr --ide-mode` printed

Each code cell may list in its metadata the texts its output must contain: `expect` (in the
plain text, which the REPL shows too) and `expect_html` (in the HTML, which only Jupyter
shows). A check fails on any error output, any panic, or any missing expected text, and
prints how long the first cell (which compiles s3io) and the later cells took.
"""
import json
import re
import sys
from datetime import datetime

# evcxr's REPL in --ide-mode prints one of these after each input line.
OK, FAILED = "\u0091", "\u0092"


def code_cells(path):
    return [c for c in json.load(open(path))["cells"] if c["cell_type"] == "code"]


def source(cell):
    return "".join(cell["source"])


def repl_input(path):
    # `:timing` first, so each cell says how long it took; then a line per cell, its lines
    # joined by U+2028, which the REPL turns back into newlines.
    lines = [":timing"] + [source(c).replace("\n", "\u2028") for c in code_cells(path)]
    sys.stdout.write("\n".join(lines) + "\n")


def check(path, results, with_html):
    """results: per code cell, (texts, problems, seconds)."""
    problems = []
    for i, (cell, (text, found, _)) in enumerate(zip(code_cells(path), results)):
        problems += [f"cell {i}: {p}" for p in found]
        meta = cell.get("metadata", {})
        wanted = meta.get("expect", []) + (meta.get("expect_html", []) if with_html else [])
        for needle in wanted:
            if needle not in text:
                problems.append(f"cell {i}: expected output containing {needle!r}")
    times = [t for _, _, t in results]
    print(f"{path}: cell times (s):", ", ".join("?" if t is None else f"{t:.1f}" for t in times))
    later = [t for t in times[1:] if t is not None]
    if times and times[0] is not None and later:
        print(f"{path}: first cell (compiles s3io): {times[0]:.1f} s; later cells: "
              f"{min(later):.1f} to {max(later):.1f} s, {sum(later):.1f} s in all")
    expected = sum(len(c.get("metadata", {}).get("expect", [])) +
                   (len(c.get("metadata", {}).get("expect_html", [])) if with_html else 0)
                   for c in code_cells(path))
    for p in problems:
        print("FAIL", p)
    print(f"{path}: {len(results)} cells, {expected} expected outputs, {len(problems)} problems")
    return not problems


# cargo's progress lines, which a cold build folder prints while the first cell compiles:
# crate names such as `thiserror` or `polars-error` are not errors.
CARGO_PROGRESS = re.compile(
    r"^\s*(Compiling|Checking|Fresh|Finished|Downloading|Downloaded|Blocking|Locking|Adding|"
    r"Updating|Building)\b")


def problems(text):
    """The lines of stderr text that report a panic or an error."""
    return [line for line in text.splitlines()
            if not CARGO_PROGRESS.match(line)
            and ("panicked" in line or re.search(r"\berror\b", line, re.IGNORECASE))]


def jupyter(path, executed):
    cells = code_cells(executed)
    results = []
    for cell in cells:
        texts, found = [], []
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "error":
                found.append(f"error output: {out.get('ename')}: {out.get('evalue')}")
            text = "".join(out.get("text", "")) if kind == "stream" else ""
            data = out.get("data", {})
            text += "".join(data.get("text/plain", "")) + "".join(data.get("text/html", ""))
            if kind == "stream" and out.get("name") == "stderr" and problems(text):
                found.append(f"stderr: {problems(text)[0].strip()[:300]}")
            texts.append(text)
        results.append(("\n".join(texts), found, seconds(cell)))
    if len(cells) != len(code_cells(path)):
        print(f"FAIL {executed} has {len(cells)} code cells, {path} {len(code_cells(path))}")
        return False
    return check(path, results, with_html=True)


def seconds(cell):
    t = cell.get("metadata", {}).get("execution", {})
    start, end = t.get("iopub.execute_input"), t.get("shell.execute_reply")
    if not (start and end):
        return None
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
    return (parse(end) - parse(start)).total_seconds()


def repl(path, stdout, stderr):
    out = open(stdout, encoding="utf-8", errors="replace").read()
    err = open(stderr, encoding="utf-8", errors="replace").read()
    # Segments end with a marker; the first is `:timing`'s.
    segments = re.split(f"([{OK}{FAILED}])", out)
    pairs = list(zip(segments[0::2], segments[1::2]))[1:]
    n = len(code_cells(path))
    results = []
    for i in range(n):
        if i >= len(pairs):
            results.append(("", ["no output: the REPL stopped before this cell"], None))
            continue
        text, marker = pairs[i]
        found = [] if marker == OK else [f"failed: {text.strip()[-500:]}"]
        took = re.findall(r"Took (\d+)ms", text)
        results.append((text, found, int(took[0]) / 1000 if took else None))
    ok = check(path, results, with_html=False)
    # Panics and errors the REPL printed on stderr, outside any cell's text.
    bad = problems(err)
    for line in bad[:20]:
        print("FAIL stderr:", line[:300])
    return ok and not bad


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "repl-input":
        repl_input(*args)
        sys.exit(0)
    ok = {"jupyter": jupyter, "repl": repl}[command](*args)
    sys.exit(0 if ok else 1)
