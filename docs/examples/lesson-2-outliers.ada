# Lesson 2: per-OC vs per-IC groups, and activation outliers
#
# A linear layer computes y = x·Wᵀ with W of shape [out, in]: each output channel (a row
# of W) sums every input channel (a column) times its weight. The usual quantization
# groups run along a row: g consecutive input columns of one output row share a grid
# ("per-OC" groups). AdaDim's observation: a few *input channels* carry huge activations
# (outliers), so the error on their weights is multiplied by a huge x. Groups that run down
# a column instead ("per-IC": g consecutive output rows of one input column) give each
# input channel grids of its own. This lesson finds the outliers and compares both.
# Run it with `scripts/ada run docs/examples/lesson-2-outliers.ada` (about 10 s).

m = load
calib = text "austen:emma" windows=4 ctx=256     # calibration text; never the text we evaluate on

# Run the calibration text through the model and record, for every linear layer, statistics
# of each input channel: max|x|, mean|x|, RMS, kurtosis.
acts = capture m calib
outliers acts top=8

# The profile of one layer: max|x| of each of its 1536 input channels. A flat floor with a
# few spikes: the outlier channels.
a = acts["blk.11.ffn_down"]
plot a x="channel" y="max_abs" title="max|x| per input channel of blk.11.ffn_down"

# What the two groupings do around the largest outlier channel of that layer: per-OC, the
# channel's weights share each row's group with 127 neighbours; per-IC, it has groups of
# its own. With the activations, explain weighs each weight error by E[x²].
explain m "blk.11.ffn_down" acts=acts bits=3 group=128

# The same comparison for every layer of the model, through the model's perplexity on
# Pride and Prejudice (lower is better; the full-precision model scores about 22 on this
# short sample).
evalset = text "austen:pride" windows=2 ctx=256
fp = (perplexity m evalset windows=2 ctx=256).ppl
rows = [{dim: "fp", ppl: fp}]
for d in [oc, ic] {
  q = quantize m method=rtn bits=3 group=128 dim=d
  rows = append(rows, {dim: d, ppl: (perplexity q evalset windows=2 ctx=256).ppl})
}
results = table rows
results
plot results x="dim" y="ppl" title="perplexity: 3-bit RTN, groups of 128"
