# Lesson 4: AdaDim's choice
#
# Lesson 2 showed per-IC groups helping a layer with activation outliers and hurting the
# model as a whole. AdaDim chooses per module: for every linear layer it quantizes both ways
# and keeps the dimension whose quantized block reproduces the full-precision block's output
# on calibration text best. Inside each decoder block it decides greedily, in the order
# q, k, v, o, gate, up, down, with the modules already decided quantized; q/k/v are judged
# at the attention output, gate/up at the MLP output, o and down at their own outputs.
# Run it with `scripts/ada run docs/examples/lesson-4-adadim.ada` (under a minute).

m = load
calib = text "austen:emma" windows=8 ctx=256

# GPTQ with AdaDim: choose each module's dimension with the criterion above (on RTN-quantized
# candidates), then run GPTQ once in the chosen dimension. select=2: the criterion judges
# on 2 calibration windows (the default is 16; fewer is faster and noisier).
q = quantize m method=gptq bits=3 group=128 dim=ada calib=calib select=2
q

# The same numbers module by module: err_oc and err_ic are the criterion's errors for each
# candidate, dim the choice. Block 11, whose ffn_down has the outlier channel 1229:
e = q.errors
e[77:84]

# Which modules choose per-IC most often: v (the attention values) and the MLP's up and
# down projections; q, k and gate stay per-OC.
c = q.ic_counts
plot c title="modules choosing per-IC (of 30 blocks)"

# Does choosing pay? Perplexity on a short sample of Pride and Prejudice: full precision,
# 3-bit GPTQ per-OC (the usual grouping) and with AdaDim. (Per-IC everywhere is worse than
# both; docs/results.md has every combination on more text.)
evalset = text "austen:pride" windows=2 ctx=256
rows = [{dim: "fp", ppl: (perplexity m evalset windows=2 ctx=256).ppl}]
qo = quantize m method=gptq bits=3 group=128 dim=oc calib=calib
rows = append(rows, {dim: "oc", ppl: (perplexity qo evalset windows=2 ctx=256).ppl})
rows = append(rows, {dim: "ada", ppl: (perplexity q evalset windows=2 ctx=256).ppl})
results = table rows
results
plot results x="dim" y="ppl" title="perplexity, 3-bit GPTQ g128: per-OC vs AdaDim"

# With round-to-nearest instead of GPTQ the same choice does not pay at 3 bits on this
# model (docs/results.md: 86.4 for AdaDim against 84.8 per-OC): the choice is local, block
# by block, on calibration text; GPTQ then repairs each module in the dimension chosen.
