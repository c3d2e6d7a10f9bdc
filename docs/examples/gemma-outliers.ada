# Activation outliers of Gemma 3 270M, the second architecture ada runs.
#
# Run it with `scripts/ada run docs/examples/gemma-outliers.ada` (about a minute on 2 cores);
# docs/examples/gemma-outliers.md is this script run as a notebook, made by
# `scripts/ada run docs/examples/gemma-outliers.ada --notebook docs/examples/gemma-outliers.md`.

g = load "gemma3"           # Gemma 3 270M (base), Q4_K_M; its dequantized weights are "full precision"
g

calib = text "austen:emma" windows=8 ctx=512 model=g
acts = capture g calib

# Input channels whose max|x| is far above their layer's median, ranked across the model.
outliers acts top=12

# The profile of the layer with the largest outlier.
top = outliers acts top=1
worst = top[0]["module"]
print "layer with the largest outlier:", worst
plot acts[worst] x="channel" y="max_abs" title="Gemma 3 270M: max|x| per input channel" log=true
