# A tour of ada: activation outliers, per-OC vs per-IC groups, and AdaDim on SmolLM2-135M.
#
# Run it with `scripts/ada run docs/examples/tour.ada` (about 5 minutes on 2 cores).
# docs/examples/tour.md is this script run as a notebook, with its plots, made by
# `scripts/ada run docs/examples/tour.ada --notebook docs/examples/tour.md`.

m = load "smollm2"          # SmolLM2-135M-Instruct; its dequantized Q4_1 weights are "full precision"
m

calib   = text "austen:emma" windows=32 ctx=512     # calibration: Emma
evalset = text "austen:pride" windows=8 ctx=512     # evaluation: Pride and Prejudice (never calibrate on it)
fp = (perplexity m evalset).ppl
print "full precision perplexity:", round(fp, 2)

# Where are the outliers? Per input channel max|x| against the layer's median.
acts = capture m calib[0:4]
outliers acts top=8

# The profile of the worst layer: a flat floor and two spikes, input channels 1229 and 1487.
plot acts["blk.11.ffn_down"] x="channel" y="max_abs" title="max|x| per input channel of blk.11.ffn_down"

# One group of one layer: what 3-bit round-to-nearest does to the per-OC group of row 0
# that holds the outlier channel 1229.
w = m["blk.11.ffn_down"]
explain w bits=3 group=128 at=[0, 1229]

# Per-OC vs per-IC groups around that channel, with its activations weighing the errors.
explain m "blk.11.ffn_down" acts=acts bits=3 group=128

# The whole layer's weight error in each dimension.
r = rtn w bits=3 group=128 dim=oc
print "blk.11.ffn_down per-OC 3-bit MSE:", r.mse
r = rtn w bits=3 group=128 dim=ic
print "blk.11.ffn_down per-IC 3-bit MSE:", r.mse

# Perplexity against bits for round-to-nearest in each dimension, on a shorter sample
# (4 windows of 256 tokens) to keep it quick.
short = text "austen:pride" windows=4 ctx=256
sweep = []
for bits in [2, 3, 4] {
  for d in [oc, ic] {
    q = quantize m method=rtn bits=bits group=128 dim=d
    sweep = append(sweep, {bits: bits, dim: "rtn " + d, ppl: (perplexity q short windows=4 ctx=256).ppl})
  }
}
sweep = table sweep
plot sweep x="bits" y="ppl" by="dim" log=true title="perplexity vs bits, RTN g128 (Pride and Prejudice, 4 × 256 tokens)"

# The ablation: RTN and GPTQ in each dimension, 3 bits, groups of 128.
rows = []
for method in ["rtn", "gptq"] {
  for d in [oc, ic, ada] {
    q = quantize m method=method bits=3 group=128 dim=d calib=calib
    p = (perplexity q evalset).ppl
    print method, d, round(p, 2)
    rows = append(rows, {method: method, dim: d, ppl: round(p, 2)})
  }
}
results = table rows
plot results x="dim" y="ppl" by="method" title="perplexity at 3 bits, groups of 128 (full precision: " + str(round(fp, 2)) + ")"

# AdaDim's choices, module by module (O: per-OC, I: per-IC), for GPTQ.
q
q.ic_counts
