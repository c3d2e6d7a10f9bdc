# Results that move to Python and back: ada writes CSV and .npy, Python reads them (numpy
# when it is importable, else the csv module and a struct-based .npy reader: the printed
# lines are the same either way), then Python writes files that ada reads.
$ADA -e '
t = table [{layer: "blk.0.q", dim: "ic", mse: 0.1, note: "a, \"quoted\" note"}, {layer: "blk.1.q", dim: "oc", mse: none, note: "two\nlines"}]
save_csv t "t.csv"
save_npy (tensor [[1, -2.5, 3], [0.125, 5, 6]]) "w.npy"
save_npy (tensor [7, 8]) "v.npy"'
echo "[exit $?]"
python3 - <<'PY'
import csv, struct
with open("t.csv", newline="") as f:
    for row in csv.reader(f):
        print("csv:", row)
try:
    import numpy as np
    def load(path):
        a = np.load(path)
        return str(a.dtype), list(a.shape), a.ravel().tolist()
except ImportError:
    import ast
    def load(path):
        b = open(path, "rb").read()
        assert b[:8] == b"\x93NUMPY\x01\x00", b[:8]
        n = struct.unpack("<H", b[8:10])[0]
        h = ast.literal_eval(b[10:10 + n].decode("latin1"))
        assert h["descr"] == "<f4" and not h["fortran_order"], h
        count = 1
        for d in h["shape"]:
            count *= d
        return "float32", list(h["shape"]), list(struct.unpack("<%df" % count, b[10 + n:]))
for path in ["w.npy", "v.npy"]:
    print("npy:", path, *load(path))

# Files written by Python for ada: CSV with CRLF line ends and quoting, .npy of float64 and int32.
with open("py.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["kind", "ppl", "label"])
    w.writerow(["q", 12.5, "x,y"])
    w.writerow(["k", 1e-05, 'say "hi"'])
def save(path, descr, fmt, shape, values):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, repr(tuple(shape)))
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        f.write(struct.pack("<%d%s" % (len(values), fmt), *values))
save("f8.npy", "<f8", "d", [2, 2], [0.5, -1.0, 2.0, 1e3])
save("i4.npy", "<i4", "i", [3], [-7, 0, 40000])
print("python wrote py.csv, f8.npy, i4.npy")
PY
echo "[exit $?]"
$ADA -e '
p = load_csv "py.csv"
p
print p["ppl"], p["label"]
load_npy "f8.npy"
load_npy "i4.npy"'
echo "[exit $?]"
