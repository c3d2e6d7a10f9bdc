#!/usr/bin/env python3
"""Decode the novels of the R package janeaustenr from its lazy-load database.

Usage: decode_janeaustenr.py DATA_DIR OUT_DIR

DATA_DIR holds Rdata.rdx (the index) and Rdata.rdb (the values), as installed
under usr/lib/R/site-library/janeaustenr/data. One file NAME.txt is written to
OUT_DIR per variable in the index (emma, mansfieldpark, northangerabbey,
persuasion, prideprejudice, sensesensibility): the character vector's elements
joined by "\\n", encoded as UTF-8. No newline is added after the last element:
this is the form whose sha256 sums are in datasets/checksums.sha256. Each file
is written to a temporary name in OUT_DIR and then renamed.

Layout, as read here:
  * Rdata.rdx is a gzip-compressed R serialization of
    list(variables = list(NAME = c(offset, length), ...),
         references = list(), compressed = TRUE).
  * Each Rdata.rdb record at [offset, offset + length) is a 4-byte big-endian
    uncompressed length followed by a zlib stream holding an R serialization.
  * Each value is a character vector (STRSXP) of CHARSXP elements.

Only the R serialization features that occur in these files are implemented;
anything else fails with a clear error. Standard library only.
"""

import gzip
import os
import struct
import sys
import zlib

# SEXP types and pseudo-types (R's serialize.c)
NILSXP, SYMSXP, LISTSXP = 0, 1, 2
CHARSXP, LGLSXP, INTSXP, REALSXP, STRSXP, VECSXP = 9, 10, 13, 14, 16, 19
REFSXP, NILVALUE_SXP = 255, 254

# CHARSXP encoding bits in the "levels" field
BYTES_MASK, LATIN1_MASK, UTF8_MASK, ASCII_MASK = 2, 4, 8, 64

NA_INTEGER = -(2 ** 31)


class DecodeError(Exception):
    pass


class Sym:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "Sym(%r)" % self.name


class RObject:
    """A decoded vector or pairlist with its attributes (a dict) if any."""

    def __init__(self, kind, value, attributes=None):
        self.kind = kind
        self.value = value
        self.attributes = attributes or {}


class Reader:
    def __init__(self, data, what):
        self.data = data
        self.pos = 0
        self.what = what
        self.refs = []

    def fail(self, msg):
        raise DecodeError("%s: %s (at byte %d)" % (self.what, msg, self.pos))

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            self.fail("truncated stream")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def int(self):
        return struct.unpack(">i", self.take(4))[0]

    def header(self):
        if self.take(2) != b"X\n":
            self.fail("not an XDR R serialization (expected 'X\\n')")
        version = self.int()
        self.int()  # writer R version
        self.int()  # minimal reader R version
        if version == 3:
            nelen = self.int()
            self.take(nelen)  # native encoding name
        elif version != 2:
            self.fail("unsupported serialization version %d" % version)

    def length(self):
        n = self.int()
        if n == -1:  # long vector: two more ints
            hi, lo = self.int(), self.int()
            n = (hi << 32) + (lo & 0xFFFFFFFF)
        if n < 0:
            self.fail("negative length %d" % n)
        return n

    def charsxp(self, flags):
        levels = flags >> 12
        n = self.int()
        if n == -1:
            return None  # NA_character_
        raw = self.take(n)
        if levels & LATIN1_MASK:
            return raw.decode("latin-1")
        if levels & BYTES_MASK:
            self.fail("CHARSXP marked as bytes cannot be decoded as text")
        try:
            # UTF8_MASK, ASCII_MASK, or native (UTF-8 here)
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            self.fail("CHARSXP is not valid UTF-8: %s" % e)

    def attributes(self):
        attrs = self.item()
        if not isinstance(attrs, RObject) or attrs.kind != "pairlist":
            self.fail("attributes are not a pairlist")
        return dict(attrs.value)

    def item(self):
        flags = self.int()
        sxptype = flags & 0xFF
        has_attr = bool(flags & (1 << 9))
        has_tag = bool(flags & (1 << 10))

        if sxptype == NILVALUE_SXP:
            return None
        if sxptype == REFSXP:
            idx = flags >> 8
            if idx == 0:
                idx = self.int()
            if not 1 <= idx <= len(self.refs):
                self.fail("bad reference index %d" % idx)
            return self.refs[idx - 1]
        if sxptype == SYMSXP:
            name = self.item()
            if not isinstance(name, str):
                self.fail("symbol name is not a string")
            sym = Sym(name)
            self.refs.append(sym)
            return sym
        if sxptype == CHARSXP:
            if has_attr:
                self.fail("CHARSXP with attributes")
            return self.charsxp(flags)
        if sxptype == LISTSXP:
            items = []
            while True:
                attrs = self.attributes() if has_attr else {}
                if attrs:
                    self.fail("pairlist cell with attributes")
                tag = self.item() if has_tag else None
                if tag is not None and not isinstance(tag, Sym):
                    self.fail("pairlist tag is not a symbol")
                items.append((tag.name if tag else None, self.item()))
                # the CDR follows: another LISTSXP cell or the terminator
                nflags = self.int()
                ntype = nflags & 0xFF
                if ntype == NILVALUE_SXP:
                    break
                if ntype != LISTSXP:
                    self.fail("unexpected pairlist tail of type %d" % ntype)
                has_attr = bool(nflags & (1 << 9))
                has_tag = bool(nflags & (1 << 10))
            return RObject("pairlist", items)
        if sxptype in (LGLSXP, INTSXP):
            n = self.length()
            vals = list(struct.unpack(">%di" % n, self.take(4 * n)))
            vals = [None if v == NA_INTEGER else v for v in vals]
            if sxptype == LGLSXP:
                vals = [None if v is None else bool(v) for v in vals]
            kind = "logical" if sxptype == LGLSXP else "integer"
        elif sxptype == REALSXP:
            n = self.length()
            vals = list(struct.unpack(">%dd" % n, self.take(8 * n)))
            kind = "double"
        elif sxptype == STRSXP:
            n = self.length()
            vals = []
            for _ in range(n):
                ef = self.int()
                if ef & 0xFF != CHARSXP:
                    self.fail("STRSXP element of type %d, expected CHARSXP" % (ef & 0xFF))
                if ef & (1 << 9):
                    self.fail("CHARSXP with attributes")
                vals.append(self.charsxp(ef))
            kind = "character"
        elif sxptype == VECSXP:
            n = self.length()
            vals = [self.item() for _ in range(n)]
            kind = "list"
        else:
            self.fail("unsupported SEXP type %d (flags 0x%08x)" % (sxptype, flags))
        attrs = self.attributes() if has_attr else {}
        return RObject(kind, vals, attrs)


def unserialize(data, what):
    r = Reader(data, what)
    r.header()
    obj = r.item()
    if r.pos != len(data):
        raise DecodeError("%s: %d trailing bytes after the object" % (what, len(data) - r.pos))
    return obj


def names_of(obj):
    names = obj.attributes.get("names")
    if names is None:
        return None
    return names.value


def read_index(rdx_path):
    with open(rdx_path, "rb") as f:
        raw = f.read()
    data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    idx = unserialize(data, rdx_path)
    if not isinstance(idx, RObject) or idx.kind != "list":
        raise DecodeError("%s: index is not a list" % rdx_path)
    fields = dict(zip(names_of(idx) or [], idx.value))
    if "variables" not in fields:
        raise DecodeError("%s: index has no 'variables'" % rdx_path)
    compressed = fields.get("compressed")
    if compressed is not None:
        flag = compressed.value[0]
        if flag not in (True, 1):
            raise DecodeError("%s: unsupported compression %r (only zlib)" % (rdx_path, flag))
    variables = fields["variables"]
    out = []
    for name, pos in zip(names_of(variables) or [], variables.value):
        if not isinstance(pos, RObject) or len(pos.value) != 2:
            raise DecodeError("%s: bad position for %s" % (rdx_path, name))
        out.append((name, int(pos.value[0]), int(pos.value[1])))
    return out


def read_record(rdb, name, offset, length):
    rec = rdb[offset:offset + length]
    if len(rec) != length or length < 4:
        raise DecodeError("Rdata.rdb: record %s out of range" % name)
    expect = struct.unpack(">I", rec[:4])[0]
    d = zlib.decompressobj()
    data = d.decompress(rec[4:]) + d.flush()
    if not d.eof or d.unused_data:
        raise DecodeError("Rdata.rdb: record %s is not exactly one zlib stream" % name)
    if len(data) != expect:
        raise DecodeError("Rdata.rdb: record %s is %d bytes, header says %d" % (name, len(data), expect))
    obj = unserialize(data, "Rdata.rdb:" + name)
    if not isinstance(obj, RObject) or obj.kind != "character":
        raise DecodeError("Rdata.rdb: %s is not a character vector" % name)
    if obj.attributes:
        raise DecodeError("Rdata.rdb: %s has unexpected attributes %s" % (name, sorted(obj.attributes)))
    if any(v is None for v in obj.value):
        raise DecodeError("Rdata.rdb: %s contains NA lines" % name)
    return obj.value


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: decode_janeaustenr.py DATA_DIR OUT_DIR\n")
        return 2
    data_dir, out_dir = argv[1], argv[2]
    index = read_index(os.path.join(data_dir, "Rdata.rdx"))
    with open(os.path.join(data_dir, "Rdata.rdb"), "rb") as f:
        rdb = f.read()
    os.makedirs(out_dir, exist_ok=True)
    for name, offset, length in index:
        lines = read_record(rdb, name, offset, length)
        text = "\n".join(lines).encode("utf-8")
        final = os.path.join(out_dir, name + ".txt")
        tmp = final + ".tmp.%d" % os.getpid()
        with open(tmp, "wb") as f:
            f.write(text)
        os.replace(tmp, final)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (DecodeError, OSError, zlib.error) as e:
        sys.stderr.write("decode_janeaustenr: %s\n" % e)
        sys.exit(1)
