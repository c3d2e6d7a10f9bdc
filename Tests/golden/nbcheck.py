#!/usr/bin/env python3
"""Checks Jupyter notebooks written by ada against nbformat 4.

Uses the nbformat package (its JSON schema) when it can be imported; run.sh installs it with
pip when it is missing and the network allows. Without it, a structural check of the parts
of the nbformat 4.5 schema that ada writes is used instead. Either way it prints one line
per notebook: the number of cells of each kind and the output types and MIME types found.

Usage: nbcheck.py NOTEBOOK.ipynb ...   (exit status 1 if one is invalid)
"""
import json
import re
import sys

try:
    import nbformat  # type: ignore
except ImportError:  # pragma: no cover - depends on the machine
    nbformat = None


def own_check(nb):
    def fail(msg):
        raise ValueError(msg)

    def multiline(x, where):
        if isinstance(x, str):
            return
        if not (isinstance(x, list) and all(isinstance(s, str) for s in x)):
            fail(f"{where}: expected a string or a list of strings")

    if nb.get("nbformat") != 4 or not isinstance(nb.get("nbformat_minor"), int):
        fail("nbformat must be 4 with an integer nbformat_minor")
    if set(nb) - {"cells", "metadata", "nbformat", "nbformat_minor"}:
        fail(f"unexpected top-level keys {sorted(set(nb) - {'cells', 'metadata', 'nbformat', 'nbformat_minor'})}")
    meta = nb.get("metadata")
    if not isinstance(meta, dict):
        fail("metadata must be an object")
    ks = meta.get("kernelspec")
    if ks is not None and not (isinstance(ks.get("name"), str) and isinstance(ks.get("display_name"), str)):
        fail("kernelspec needs name and display_name")
    li = meta.get("language_info")
    if li is not None and not isinstance(li.get("name"), str):
        fail("language_info needs a name")
    ids = set()
    for i, c in enumerate(nb.get("cells", [])):
        where = f"cell {i}"
        t = c.get("cell_type")
        if nb["nbformat_minor"] >= 5:
            cid = c.get("id")
            if not (isinstance(cid, str) and re.fullmatch(r"[a-zA-Z0-9-_]{1,64}", cid)) or cid in ids:
                fail(f"{where}: bad or repeated id {cid!r}")
            ids.add(cid)
        if not isinstance(c.get("metadata"), dict):
            fail(f"{where}: metadata must be an object")
        multiline(c.get("source"), where + " source")
        if t == "markdown":
            allowed = {"cell_type", "id", "metadata", "source", "attachments"}
        elif t == "code":
            allowed = {"cell_type", "id", "metadata", "source", "outputs", "execution_count"}
            ec = c.get("execution_count", "missing")
            if ec == "missing" or not (ec is None or (isinstance(ec, int) and ec >= 0)):
                fail(f"{where}: execution_count must be null or a non-negative integer")
            if not isinstance(c.get("outputs"), list):
                fail(f"{where}: outputs must be a list")
            for j, o in enumerate(c["outputs"]):
                ow = f"{where} output {j}"
                ot = o.get("output_type")
                if ot == "stream":
                    if o.get("name") not in ("stdout", "stderr") or set(o) - {"output_type", "name", "text"}:
                        fail(f"{ow}: bad stream")
                    multiline(o.get("text"), ow)
                elif ot in ("execute_result", "display_data"):
                    keys = {"output_type", "data", "metadata"} | ({"execution_count"} if ot == "execute_result" else set())
                    if set(o) != keys:
                        fail(f"{ow}: keys {sorted(o)} != {sorted(keys)}")
                    if not isinstance(o["data"], dict) or not all(re.fullmatch(r"[^/]+/[^/]+", k) for k in o["data"]):
                        fail(f"{ow}: data must map MIME types to content")
                    for k, v in o["data"].items():
                        multiline(v, f"{ow} {k}")
                elif ot == "error":
                    if not (isinstance(o.get("ename"), str) and isinstance(o.get("evalue"), str) and isinstance(o.get("traceback"), list)):
                        fail(f"{ow}: bad error output")
                else:
                    fail(f"{ow}: unknown output_type {ot!r}")
        else:
            fail(f"{where}: unknown cell_type {t!r}")
        if set(c) - allowed:
            fail(f"{where}: unexpected keys {sorted(set(c) - allowed)}")


ok = True
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    try:
        if nbformat is not None:
            nbformat.validate(nbformat.reads(json.dumps(nb), as_version=4))
        else:
            own_check(nb)
    except Exception as e:  # noqa: BLE001 - report any validation failure
        print(f"{path}: INVALID: {e}")
        ok = False
        continue
    kinds = {}
    outputs = {}
    mimes = set()
    for c in nb["cells"]:
        kinds[c["cell_type"]] = kinds.get(c["cell_type"], 0) + 1
        for o in c.get("outputs", []):
            outputs[o["output_type"]] = outputs.get(o["output_type"], 0) + 1
            mimes.update(o.get("data", {}).keys())
    print(f"{path}: valid nbformat {nb['nbformat']}.{nb['nbformat_minor']}; cells {dict(sorted(kinds.items()))};"
          f" outputs {dict(sorted(outputs.items()))}; MIME types {sorted(mimes)}")
sys.exit(0 if ok else 1)
