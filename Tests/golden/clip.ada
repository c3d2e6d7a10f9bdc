# The clip search on one hand-made group (2 bits, ratios 1, 0.75, 0.5, squared error):
# p = 1 costs 20/9, p = 0.75 costs 1, p = 0.5 costs 40/9, so the range shrinks to [0, 3].
g = tensor [[0, 1, 1, 1, 1, 2, 2, 2, 2, 4]]
plain = rtn g bits=2 group=0
clipped = rtn g bits=2 group=0 clip=mse clip_grid=4 clip_min=0.5 clip_norm=2
print plain.scales, clipped.scales
plain.dequantized
clipped.dequantized
# The squared errors: 20/9 and 1.
print plain.mse * 10, clipped.mse * 10
# Weighting the last element by 100 keeps the full range (its error would cost 100).
w = rtn g bits=2 group=0 clip=weighted clip_grid=4 clip_min=0.5 clip_norm=2 importance=[1, 1, 1, 1, 1, 1, 1, 1, 1, 100]
print w.scales
# A real layer at 3 bits, groups of 128, both dimensions: the search lowers the weight error.
m = load "smollm2"
down = m["blk.3.ffn_down"]
for d in [oc, ic] {
  a = rtn down bits=3 group=128 dim=d
  b = rtn down bits=3 group=128 dim=d clip=mse
  print d, a.mse, b.mse, (b.mse < a.mse)
}
