#!/usr/bin/env python3
"""Checks the house rules of docs/architecture.md on Sources/:

- each target imports only the targets below it (the LAYERS table);
- no file over MAX_FILE lines, no function over MAX_FUNC lines (exceptions listed here,
  each with its reason, and in docs/architecture.md);
- no target over MAX_SHARE of all Swift source lines.

Prints one line per violation and exits 1 if there is any; prints a summary otherwise.
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources")
MAX_FILE = 600
MAX_FUNC = 80
MAX_SHARE = 0.25

# target -> the project targets it may import (system shims and Foundation are always allowed)
LAYERS = {
    "AdaTensor": set(),
    "AdaModel": {"AdaTensor"},
    "AdaQuant": {"AdaTensor", "AdaModel"},
    "AdaEval": {"AdaTensor", "AdaModel", "AdaQuant"},
    "AdaLang": set(),
    "AdaLibrary": {"AdaLang", "AdaTensor", "AdaModel", "AdaQuant", "AdaEval"},
    "AdaRender": {"AdaLang", "AdaLibrary", "AdaModel", "AdaTensor"},
    "AdaShell": {"AdaLang", "AdaLibrary", "AdaRender"},
    "AdaCommands": {"AdaLang", "AdaLibrary", "AdaRender", "AdaShell", "AdaTensor", "AdaModel", "AdaQuant", "AdaEval"},
    "ada": {"AdaCommands"},
}
SYSTEM = {"Foundation", "Dispatch", "Glibc", "Darwin", "ArgumentParser", "_CBLAS", "_CKernels", "_CEditline", "Synchronization"}

# (file, function name) -> why it stays longer than MAX_FUNC lines
FUNC_EXCEPTIONS = {
    ("Sources/AdaLibrary/Plot/PlotLibrary.swift", "makePlot"):
        "one switch over the kinds of value `plot` takes, each arm a few lines; split, the arms lose their shared local builders",
    ("Sources/AdaLibrary/Plot/PlotLibrary.swift", "tablePlot"):
        "the table form of `plot` (x, y, by columns), one validation sequence whose messages depend on each other",
    ("Sources/AdaRender/Plot/PlotTerminal.swift", "renderLine"):
        "one drawing routine over a braille canvas (axes, ticks, series, legend) sharing its coordinate state",
}

FUNC_RE = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|private|fileprivate|internal|static|final|override|mutating|nonisolated|@inline\(__always\)|@discardableResult)\s+)*(?:func\s+([A-Za-z_][A-Za-z0-9_]*|[^\s(]+)|(init)[?!]?\s*[(<])")

# computed properties (`var name: Type {`): their bodies count like functions
VAR_RE = re.compile(r"^\s*(?:(?:public|private|fileprivate|internal|static|final|override|nonisolated)\s+)*var\s+([A-Za-z_][A-Za-z0-9_]*)\s*:\s*[^={]+\{\s*$")


def strip(line, state):
    """Removes strings and comments (approximately: enough to count braces)."""
    out = []
    i = 0
    while i < len(line):
        if state["multi"]:
            if line.startswith('"""', i):
                state["multi"] = False
                i += 3
            else:
                i += 1
            continue
        if line.startswith('"""', i):
            state["multi"] = True
            i += 3
            continue
        c = line[i]
        if line.startswith("//", i):
            break
        if c == '"':
            i += 1
            depth = 0
            while i < len(line):
                if line[i] == "\\" and i + 1 < len(line) and line[i + 1] == "(":
                    depth += 1
                    i += 2
                    continue
                if depth and line[i] == ")":
                    depth -= 1
                elif not depth and line[i] == "\\":
                    i += 1
                elif not depth and line[i] == '"':
                    break
                i += 1
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def functions(path):
    """Yields (name, first line, length) of each function body in the file."""
    lines = open(path, encoding="utf-8").read().split("\n")
    state = {"multi": False}
    stack = []  # (name, start line, depth at which the body opened)
    depth = 0
    pending = None
    for n, raw in enumerate(lines, 1):
        code = strip(raw, state)
        m = FUNC_RE.match(code) if not state["multi"] else None
        v = VAR_RE.match(code) if not state["multi"] else None
        if m:
            pending = (m.group(1) or m.group(2), n)
        elif v:
            pending = (v.group(1), n)
        for c in code:
            if c == "{":
                depth += 1
                if pending:
                    stack.append((pending[0], pending[1], depth))
                    pending = None
            elif c == "}":
                if stack and stack[-1][2] == depth:
                    name, start, _ = stack.pop()
                    yield name, start, n - start + 1
                depth -= 1


def main():
    problems = []
    totals = {}
    for target in sorted(os.listdir(ROOT)):
        tdir = os.path.join(ROOT, target)
        if not os.path.isdir(tdir) or target.startswith("_"):
            continue
        allowed = LAYERS.get(target)
        if allowed is None:
            problems.append(f"Sources/{target}: not in the layer table of scripts/check_layout.py")
            allowed = set()
        count = 0
        for dirpath, _, files in os.walk(tdir):
            for f in sorted(files):
                if not f.endswith(".swift"):
                    continue
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, os.path.join(ROOT, ".."))
                text = open(path, encoding="utf-8").read()
                n = text.count("\n")
                count += n
                if n > MAX_FILE:
                    problems.append(f"{rel}: {n} lines (at most {MAX_FILE})")
                for imp in re.findall(r"^\s*(?:@\w+\s+)?import\s+(?:struct\s+|enum\s+|class\s+|func\s+)?([A-Za-z_][A-Za-z0-9_]*)", text, re.M):
                    if imp in SYSTEM or imp == target:
                        continue
                    if imp not in allowed:
                        problems.append(f"{rel}: imports {imp}, which {target} may not import")
                for name, start, length in functions(path):
                    if length > MAX_FUNC and (rel, name) not in FUNC_EXCEPTIONS:
                        problems.append(f"{rel}:{start}: function {name} is {length} lines (at most {MAX_FUNC})")
        totals[target] = count
    total = sum(totals.values())
    for t, c in totals.items():
        if total and c / total > MAX_SHARE:
            problems.append(f"Sources/{t}: {c} of {total} lines ({100 * c / total:.0f}%, at most {100 * MAX_SHARE:.0f}%)")
    for p in problems:
        print(p)
    if problems:
        print(f"check_layout: {len(problems)} problems")
        return 1
    share = ", ".join(f"{t} {100 * c / total:.0f}%" for t, c in sorted(totals.items(), key=lambda x: -x[1]))
    print(f"check_layout: {total} lines in {len(totals)} targets ({share}); files ≤ {MAX_FILE} lines, functions ≤ {MAX_FUNC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
