#!/usr/bin/env python3
"""Fails when a module imports one above it: the layer table is read from
docs/architecture.md (the block between the `layers:` markers), so the picture and the check
cannot drift apart.

Every `crate::` path in code is read, inline ones included (`crate::a::b::f()` as well as
`use crate::{a::X, b::Y}`); comments and doc comments are skipped. A module may import its
own layer and any layer below. Usage: python3 scripts/check-layers.py (from anywhere).
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CRATES = {
    "s3io": ROOT / "src",
    "s3io-formats": ROOT / "formats" / "src",
    "s3io-cli": ROOT / "cli" / "src",
}


def layer_table():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = text.split("<!-- layers:begin -->", 1)[1].split("<!-- layers:end -->", 1)[0]
    layers = {}
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].isdigit():
            continue
        number, crate, modules = int(cells[0]), cells[1].strip("`"), cells[2]
        for module in re.findall(r"`([a-z_]+)`", modules):
            layers[(crate, module)] = number
    return layers


def code_text(path):
    """The file's text with comments (line, doc and block comments) blanked out, lengths and
    line breaks kept so that offsets still give line numbers."""
    text = path.read_text(encoding="utf-8")
    blank = lambda m: re.sub(r"[^\n]", " ", m.group(0))
    text = re.sub(r"/\*.*?\*/", blank, text, flags=re.S)
    # `//` that is not part of `://` (URLs in strings) starts a comment to the end of the line.
    return re.sub(r"(?<!:)//[^\n]*", blank, text)


def top_items(group):
    """The first path segment of each item of a `{...}` use group, nested groups included."""
    items, depth, current = [], 0, ""
    for ch in group:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += ch
    items.append(current)
    return [m.group(1) for item in items if (m := re.match(r"\s*([a-z_]+)", item))]


def imported_modules(text):
    """(offset, module) for every top-level module that a `crate::` path names."""
    for m in re.finditer(r"\bcrate::(\{|[a-z_]+\b)", text):
        if m.group(1) != "{":
            yield m.start(), m.group(1)
            continue
        depth, end = 1, m.end()
        while end < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            end += 1
        for module in top_items(text[m.end() : end - 1]):
            yield m.start(), module


def main():
    layers = layer_table()
    problems = []
    for crate, src in CRATES.items():
        for path in sorted(src.rglob("*.rs")):
            rel = path.relative_to(src)
            module = rel.parts[0].removesuffix(".rs")
            if module in ("lib", "main"):
                continue
            here = layers.get((crate, module))
            if here is None:
                problems.append(f"{path.relative_to(ROOT)}: module `{module}` of {crate} is in no layer of docs/architecture.md")
                continue
            text = code_text(path)
            for offset, target in imported_modules(text):
                number = text.count("\n", 0, offset) + 1
                there = layers.get((crate, target))
                if there is None:
                    problems.append(f"{path.relative_to(ROOT)}:{number}: `crate::{target}` is in no layer")
                elif there > here:
                    problems.append(
                        f"{path.relative_to(ROOT)}:{number}: `{module}` (layer {here}) imports "
                        f"`{target}` (layer {there}), which is above it"
                    )
    for problem in problems:
        print(problem)
    print(f"layers: {len(problems)} problem(s) in {len(CRATES)} crates")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
