# The builtin reference in docs/language.md is what `ada help --markdown` prints.
$ADA help --markdown >generated.md
python3 - "$ADA_REPO/docs/language.md" generated.md <<'PY'
import sys
s = open(sys.argv[1]).read()
b = s.index("\n", s.index("<!-- BEGIN BUILTINS")) + 1
e = s.index("<!-- END BUILTINS -->")
in_docs = s[b:e].strip("\n")
generated = open(sys.argv[2]).read().strip("\n")
if in_docs == generated:
    print("docs/language.md is in sync with the registry")
else:
    import difflib
    print("docs/language.md is out of date: run Tests/golden/update-docs.sh")
    for line in list(difflib.unified_diff(in_docs.splitlines(), generated.splitlines(), "docs", "registry", lineterm=""))[:20]:
        print(line)
PY
