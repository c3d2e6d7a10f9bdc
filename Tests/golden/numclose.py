#!/usr/bin/env python3
"""Second look at a golden transcript that differs from its expected output.

Numbers printed with a fixed number of digits can round differently on another processor
(the last digit of a statistic sitting on a rounding boundary). This accepts the output
when every differing line matches the expected line exactly outside its numbers, and each
number differs by at most one unit in the last printed place (of the longer of the two:
trailing zeros are not printed, so 35.13 and 35.1299 are one unit apart); numbers without
a decimal point (counts, sizes, exit statuses) must be equal. Anything else (a changed word, a missing line, a larger numeric change)
is a failure. Exit status 0 when accepted, 1 otherwise; accepted differences are listed.

Usage: numclose.py EXPECTED GOT
"""
import re
import sys

NUMBER = re.compile(r"-?\d+(?:\.(\d+))?")


def close(want: str, got: str) -> bool:
    wn, gn = list(NUMBER.finditer(want)), list(NUMBER.finditer(got))
    if len(wn) != len(gn) or not wn:
        return False
    if NUMBER.sub("#", want) != NUMBER.sub("#", got):
        return False
    for w, g in zip(wn, gn):
        wd, gd = w.group(1) or "", g.group(1) or ""
        if not wd or not gd:
            if w.group(0) != g.group(0):
                return False
            continue
        # Trailing zeros are not printed (35.13 is 35.1300 next to 35.1299): the unit is
        # the last place of the longer one.
        unit = 10 ** -max(len(wd), len(gd))
        if abs(float(w.group(0)) - float(g.group(0))) > unit * 1.000001:
            return False
    return True


def main() -> int:
    with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
        want = f.read().split("\n")
    with open(sys.argv[2], encoding="utf-8", errors="replace") as f:
        got = f.read().split("\n")
    if len(want) != len(got):
        return 1
    accepted = []
    for i, (w, g) in enumerate(zip(want, got), 1):
        if w == g:
            continue
        if not close(w, g):
            return 1
        accepted.append(f"  line {i}: {w.strip()!r} ~ {g.strip()!r}")
    for a in accepted:
        print(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
