# Lesson 3: GPTQ's error compensation
#
# Round-to-nearest (RTN) quantizes every weight on its own. GPTQ quantizes the columns of
# W (the input channels) one at a time and, after each column, adjusts the columns not yet
# quantized so that the layer's *output* on calibration inputs changes as little as
# possible: the rounding error of one weight is compensated by its neighbours, in the
# directions the inputs rarely use. The weights move further from their originals (larger
# weight error) while the outputs stay closer (smaller output error), and the output is
# what the model feels.
# Run it with `scripts/ada run docs/examples/lesson-3-gptq.ada` (about 30 s).

m = load
calib = text "austen:emma" windows=8 ctx=256

# One layer, 3 bits, groups of 128, both methods on the same grid.
g = gptq m "blk.3.ffn_down" calib bits=3 group=128
table [{method: "rtn", weight_mse: g.rtn_weight_mse, output_mse: g.rtn_output_mse},
       {method: "gptq", weight_mse: g.weight_mse, output_mse: g.output_mse}]
print "GPTQ: weight error ×", round(g.weight_mse / g.rtn_weight_mse, 2), " output error ×", round(g.output_mse / g.rtn_output_mse, 2)

# Where the error goes: |ŵ − w| of the first 96 rows and columns, side by side on one colour
# scale. RTN never moves a weight by more than half a step of its group's grid; GPTQ moves
# many further, on purpose, to make up for the errors of the columns quantized before.
plot({rtn: abs(g.rtn_error[0:96, 0:96]), gptq: abs(g.error[0:96, 0:96])}, title="|ŵ − w| of blk.3.ffn_down, rows and columns 0…95")
print "largest |ŵ − w|: RTN", round(absmax(g.rtn_error), 3), " GPTQ", round(absmax(g.error), 3)

# The same comparison with per-IC groups: GPTQ works in either dimension.
gi = gptq m "blk.3.ffn_down" calib bits=3 group=128 dim=ic
print "per-IC: output error RTN", round(gi.rtn_output_mse, 5), " GPTQ", round(gi.output_mse, 5)

# And on the whole model: every layer, block by block, then the perplexity on a short
# sample of Pride and Prejudice (full precision: about 18 on this sample).
evalset = text "austen:pride" windows=2 ctx=256
for method in ["rtn", "gptq"] {
  q = quantize m method=method bits=3 group=128 dim=oc calib=calib
  print method, "3-bit per-OC perplexity:", round((perplexity q evalset windows=2 ctx=256).ppl, 2)
}
