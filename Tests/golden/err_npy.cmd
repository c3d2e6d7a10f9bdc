# A hostile .npy file (a shape far larger than its data) gives a one-line error naming the
# file, with the caret under the path, and a script stops with status 1.
python3 - <<'PY'
header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4096, 4096), }"
header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
open("cut.npy", "wb").write(b"\x93NUMPY\x01\x00" + bytes([len(header) & 255, len(header) >> 8]) + header.encode() + b"\0" * 64)
open("not.npy", "wb").write(b"PK\x03\x04 a zip file")
PY
$ADA -e 'load_npy "not.npy"'
echo "[exit $?]"
printf 'w = load_npy "cut.npy"\nprint "not reached"\n' >cut.ada
$ADA run cut.ada
echo "[exit $?]"
