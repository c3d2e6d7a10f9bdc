# Lesson 5: clipping and activation-aware scaling (AWQ)
#
# Clipping: a group's grid spans its min and max, so one large weight stretches the steps
# for all the others. Shrinking the range to [p·min, p·max] clamps that weight but rounds the
# rest more finely; the clip search tries p = 1, 0.99, … down to 0.2 and keeps the range with
# the smallest error Σ|w − ŵ|^2.4.
# AWQ: the input channels with large activations matter most; scaling their weight columns
# up by s (and their inputs down by s) gives those columns finer steps of the same grid,
# with the same full-precision function.
# Run it with `scripts/ada run docs/examples/lesson-5-clip-awq.ada` (a few minutes).

# One hand-made group, 2 bits (codes 0…3), ratios 1, 0.75, 0.5, squared error.
g = tensor [[0, 1, 1, 1, 1, 2, 2, 2, 2, 4]]
plain = rtn g bits=2 group=0
clipped = rtn g bits=2 group=0 clip=mse clip_grid=4 clip_min=0.5 clip_norm=2
print "plain:  ", plain.dequantized, " squared error", round(plain.mse * 10, 3)
print "clipped:", clipped.dequantized, " squared error", round(clipped.mse * 10, 3)

# One real layer: weight error with and without the search, in both dimensions.
m = load
down = m["blk.3.ffn_down"]
for d in [oc, ic] {
  print d, "weight mse", round((rtn down bits=3 group=128 dim=d).mse, 6), "→", round((rtn down bits=3 group=128 dim=d clip=mse).mse, 6)
}

# AWQ on the model, then one layer's output error (RTN, 3 bits, groups of 128) before and after:
# the folded model computes the same outputs, so the errors are comparable.
calib = text "austen:emma" windows=8 ctx=256
m2 = awq m calib bits=3 group=128
print "same function: ppl", round((perplexity m "austen:pride" windows=2).ppl, 3), round((perplexity m2 "austen:pride" windows=2).ppl, 3)
for layer in ["blk.3.attn_q", "blk.3.ffn_up", "blk.3.ffn_down"] {
  a = gptq m layer calib bits=3 group=128
  b = gptq m2 layer calib bits=3 group=128
  print layer, "RTN output mse", round(a.rtn_output_mse, 5), "→", round(b.rtn_output_mse, 5)
}

# The whole model, 3 bits, groups of 128, per-OC RTN: plain, clipped, AWQ, both.
for row in [["plain", m, "none"], ["clip", m, "mse"], ["awq", m2, "none"], ["awq + clip", m2, "mse"]] {
  q = quantize row[1] bits=3 group=128 clip=row[2]
  print row[0], round((perplexity q "austen:pride" windows=8).ppl, 2)
}
