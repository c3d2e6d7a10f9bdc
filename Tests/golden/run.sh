#!/usr/bin/env bash
# Golden end-to-end tests: runs each Tests/golden/NAME.ada through the release `ada` binary
# and compares standard output and standard error (together, in order) with NAME.expected
# and the exit status with NAME.status (0 when the file is absent).
#
# Each test runs in a fresh temporary folder holding a copy of the golden folder, with
# NO_COLOR=1, SOURCE_DATE_EPOCH=0 (fixed dates in saved sessions) and stdin from /dev/null.
# By default the command is `ada run NAME.ada`; a NAME.cmd file replaces it with a bash
# script ($ADA is the binary, $ADA_REPO the checkout) for command-line cases (-e, stdin,
# check, --set, save/replay, docs in sync).
#
# Usage: Tests/golden/run.sh [--update] [NAME …]   (--update rewrites the expected files)
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

log="$(mktemp "${TMPDIR:-/tmp}/ada-golden-build.XXXXXX")"
if ! swift build --package-path "$repo" -c release --product ada >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  echo "golden: build failed" >&2
  exit 2
fi
rm -f "$log"
ADA="$(swift build --package-path "$repo" -c release --show-bin-path)/ada"
ADA_REPO="$repo"
export ADA ADA_REPO

if [ "${#names[@]}" -eq 0 ]; then
  for f in "$here"/*.ada; do names+=("$(basename "$f" .ada)"); done
fi

passed=0
failed=0
failures=()
for name in "${names[@]}"; do
  [ -f "$here/$name.ada" ] || { echo "golden: no test $name" >&2; failed=$((failed + 1)); failures+=("$name"); continue; }
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
    ok=0
    echo "--- golden $name: output differs (expected vs got)"
    diff -u "$here/$name.expected" "$work/.out" | head -60
  fi
  if [ "$status" != "$want_status" ]; then
    ok=0
    echo "--- golden $name: exit status $status, expected $want_status"
  fi
  if [ "$ok" = 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$name"); fi
  rm -rf "$work"
done

[ "$failed" -gt 0 ] && echo "golden: failed: ${failures[*]}"
echo "golden: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
