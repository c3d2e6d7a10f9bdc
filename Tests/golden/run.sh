#!/usr/bin/env bash
# Golden end-to-end tests: runs each Tests/golden/NAME.ada through the release `ada` binary
# and compares standard output and standard error (together, in order) with NAME.expected
# and the exit status with NAME.status (0 when the file is absent).
#
# Each test runs in a fresh temporary folder holding a copy of the golden folder, with
# NO_COLOR=1, SOURCE_DATE_EPOCH=0 (fixed dates in saved sessions), LC_ALL=C.UTF-8 (plots
# drawn in Unicode unless a test asks for ASCII), ADA_ASCII unset and stdin from /dev/null.
# Notebook tests validate .ipynb files with nbformat: it is installed with pip (quietly, no
# prompt) when missing; without network, Tests/golden/nbcheck.py falls back to its own
# check of the nbformat 4 schema.
# By default the command is `ada run NAME.ada`; a NAME.cmd file replaces it with a bash
# script ($ADA is the binary, $ADA_REPO the checkout) for command-line cases (-e, stdin,
# check, --set, save/replay, docs in sync, notebooks, SVG checks, progress on a terminal)
# and for the lessons of docs/examples (lessonN.cmd: each lesson's key outputs).
# Output must match exactly, except that a decimal number may differ by one unit in its last
# printed digit (another processor's rounding; Tests/golden/numclose.py decides and lists it).
#
# Usage: Tests/golden/run.sh [--update] [NAME …]   (--update rewrites the expected files)
# Environment: ADA (the binary to test), ADA_GOLDEN_REPORT (a file that collects failures).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

update=0
names=()
for a in "$@"; do
  case "$a" in
    --update) update=1 ;;
    *) names+=("${a%.ada}") ;;
  esac
done

# $ADA, when set (the swift test that runs these transcripts sets it), is the binary to
# test; otherwise the release binary is built here.
if [ -z "${ADA:-}" ]; then
  log="$(mktemp "${TMPDIR:-/tmp}/ada-golden-build.XXXXXX")"
  if ! swift build --package-path "$repo" -c release --product ada >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "golden: build failed" >&2
    exit 2
  fi
  rm -f "$log"
  ADA="$(swift build --package-path "$repo" -c release --show-bin-path)/ada"
fi
ADA_REPO="$repo"
export ADA ADA_REPO
export LC_ALL=C.UTF-8
unset ADA_ASCII ADA_PROGRESS_DELAY COLUMNS

if ! python3 -c 'import nbformat' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check nbformat </dev/null >/dev/null 2>&1 ||
    echo "golden: nbformat could not be installed; notebooks are checked by nbcheck.py's own nbformat-4 check" >&2
fi
start=$(date +%s)

if [ "${#names[@]}" -eq 0 ]; then
  # Every NAME.ada, and every NAME.cmd without one (tests of the command line and of the
  # lessons in docs/examples).
  while IFS= read -r n; do names+=("$n"); done < <(
    for f in "$here"/*.ada "$here"/*.cmd; do b="$(basename "$f")"; echo "${b%.*}"; done | sort -u)
fi

# Failures are printed and, when $ADA_GOLDEN_REPORT names a file, appended to it too
# (scripts/test prints that file last, so a failing run's log ends with the differences).
report() { if [ -n "${ADA_GOLDEN_REPORT:-}" ]; then tee -a "$ADA_GOLDEN_REPORT"; else cat; fi; }

passed=0
failed=0
failures=()
for name in "${names[@]}"; do
  [ -f "$here/$name.ada" ] || [ -f "$here/$name.cmd" ] || { echo "golden: no test $name" >&2; failed=$((failed + 1)); failures+=("$name"); continue; }
  work="$(mktemp -d "${TMPDIR:-/tmp}/ada-golden.XXXXXX")"
  cp "$here"/*.ada "$here"/*.cmd "$work"/ 2>/dev/null
  if [ -f "$here/$name.cmd" ]; then
    (cd "$work" && NO_COLOR=1 SOURCE_DATE_EPOCH=0 ADA_HISTORY=/dev/null bash "$name.cmd" </dev/null >"$work/.out" 2>&1)
  else
    (cd "$work" && NO_COLOR=1 SOURCE_DATE_EPOCH=0 ADA_HISTORY=/dev/null "$ADA" run "$name.ada" </dev/null >"$work/.out" 2>&1)
  fi
  status=$?
  want_status=0
  [ -f "$here/$name.status" ] && want_status="$(tr -d '[:space:]' <"$here/$name.status")"
  if [ "$update" = 1 ]; then
    cp "$work/.out" "$here/$name.expected"
    if [ "$status" != 0 ]; then echo "$status" >"$here/$name.status"; else rm -f "$here/$name.status"; fi
    want_status="$status"
  fi
  ok=1
  if ! cmp -s "$work/.out" "$here/$name.expected" 2>/dev/null; then
    if [ "$update" = 0 ] && [ -f "$here/$name.expected" ] &&
       near="$(python3 "$here/numclose.py" "$here/$name.expected" "$work/.out")"; then
      echo "golden $name: accepted with last-digit differences (rounding on this processor):"
      echo "$near"
    else
      ok=0
      { echo "--- golden $name: output differs (expected vs got)"
        diff -u "$here/$name.expected" "$work/.out" | head -60; } | report
    fi
  fi
  if [ "$status" != "$want_status" ]; then
    ok=0
    echo "--- golden $name: exit status $status, expected $want_status" | report
  fi
  if [ "$ok" = 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$name"); fi
  rm -rf "$work"
done

[ "$failed" -gt 0 ] && echo "golden: failed: ${failures[*]}" | report
echo "golden: $passed passed, $failed failed ($(( $(date +%s) - start )) s)"
[ "$failed" -eq 0 ]
