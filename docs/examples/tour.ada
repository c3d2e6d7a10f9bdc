# A tour of ada: activation outliers, per-OC vs per-IC groups, and AdaDim on SmolLM2-135M.
# Run it with:  scripts/ada run docs/examples/tour.ada      (a few minutes on 2 cores)

m = load "smollm2"          # SmolLM2-135M-Instruct; its dequantized Q4_1 weights are "full precision"
m

calib   = text "austen:emma" windows=32 ctx=512     # calibration: Emma
evalset = text "austen:pride" windows=8 ctx=512     # evaluation: Pride and Prejudice (never calibrate on it)
fp = (perplexity m evalset).ppl
print "full precision perplexity:", round(fp, 2)

# Where are the outliers? Per input channel max|x| against the layer's median.
acts = capture m calib[0:4]
outliers acts top=8

# One group of one layer: what 3-bit round-to-nearest does to it.
w = m["blk.11.ffn_down"]
r = rtn w bits=3 group=128 dim=oc
print "blk.11.ffn_down per-OC 3-bit MSE:", r.mse
r = rtn w bits=3 group=128 dim=ic
print "blk.11.ffn_down per-IC 3-bit MSE:", r.mse

# The ablation: RTN and GPTQ in each dimension, 3 bits, groups of 128.
for method in ["rtn", "gptq"] {
  for d in [oc, ic, ada] {
    q = quantize m method=method bits=3 group=128 dim=d calib=calib
    print method, d, round((perplexity q evalset).ppl, 2)
  }
}

# AdaDim's choices, module by module (O: per-OC, I: per-IC).
q
q.ic_counts
