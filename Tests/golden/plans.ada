# Module-level quantization plans on the real model (RTN: no calibration needed).
m = load
# dim by kind: v and down per-IC, the kinds not named per-OC.
q = quantize m bits=3 group=128 dim={v: ic, down: ic}
q
q.ic_counts
q.dim
round q.bpw 3
# bits by kind (mixed precision): v and down at 4 bits, the rest at 3; group by kind too.
qb = quantize m bits={v: 4, down: 4, rest: 3} group={o: 64}
qb
qb.bits
qb.group
round qb.bpw 3
qb.errors[0:7]
# only= and skip=: the value projections and every ffn_down, except in blocks 0-3.
qs = quantize m only=["blk.*.attn_v", "down"] skip="blk.0-3.*"
qs
len qs.errors
len qs.kept
qs.kept[0:3]
round qs.bpw 3
# AdaDim on some kinds, with per-kind bits and a skip: judged with the block's other modules as planned.
calib = text "austen:emma" windows=2 ctx=64
qm = quantize m bits={down: 4} dim={v: ada, up: ada, down: ada} calib=calib select=2 only="blk.0-1.*"
qm.errors
# Replaying an AdaDim run's choices exactly: from its choices table ...
qa = quantize m dim=ada calib=calib select=2 skip="blk.10-29.*"
qa.ic_counts
qr = quantize m dim=qa.choices skip="blk.10-29.*"
qr.ic_counts == qa.ic_counts
for k in ["q", "k", "v", "o", "gate", "up", "down"] {
  print k, (qr.choices[k] == qa.choices[k])
}
# ... or from its errors table (module, dim, bits, group columns): the same weights.
qe = quantize m dim=qa.errors bits=qa.errors group=qa.errors skip="blk.10-29.*"
qe.errors["dim"] == qa.errors["dim"]
qe.errors["weight_mse"] == qa.errors["weight_mse"]
qe.name
