#!/usr/bin/env bash
# Regenerates the builtin reference in docs/language.md (between the BEGIN/END BUILTINS
# markers) from the registry, with `ada help --markdown`.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
swift build --package-path "$repo" -c release --product ada -q
ada="$(swift build --package-path "$repo" -c release --show-bin-path)/ada"
doc="$repo/docs/language.md"
gen="$(mktemp)"
trap 'rm -f "$gen"' EXIT
"$ada" help --markdown >"$gen"
python3 - "$doc" "$gen" <<'PY'
import sys
doc, gen = sys.argv[1], open(sys.argv[2]).read()
s = open(doc).read()
b = s.index("<!-- BEGIN BUILTINS")
b = s.index("\n", b) + 1
e = s.index("<!-- END BUILTINS -->")
open(doc + ".tmp", "w").write(s[:b] + "\n" + gen + "\n" + s[e:])
PY
mv "$doc.tmp" "$doc"
echo "updated $doc"
