# Terminal rendering of values in 80 columns: tables (one number format per column,
# numbers right-aligned, wide tables in panels, long tables elided), tensors (numpy-like
# summary, edges only), long lists and records (wrapped), explanations and plots (ASCII).
t = table [{method: "rtn", dim: "oc", bits: 3, ppl: 84.79, mse: 0.0021}, {method: "gptq", dim: "ada", bits: 3, ppl: 35.58, mse: 0.00046}, {method: "rtn", dim: "ic", bits: 4, ppl: 33.67, mse: 0.000512}]
t
wide = table [{module: "blk.11.ffn_down", dim: "ic", weight_mse: 0.002062, output_mse: 13.3146, err_oc: 19.584, err_ic: 13.3146, ragged: true, note: "the outlier layer of this model: input channel 1229"}, {module: "blk.0.attn_q", dim: "oc", weight_mse: 0.002135, output_mse: 0.0199, err_oc: 0.0199, err_ic: 0.0305, ragged: true, note: none}]
wide
rows = []
for i in range 40 { rows = append(rows, {i: i, square: i * i, root: sqrt(i)}) }
long = table rows
long
print long[0:2]
rand 3 4 seed=1
rand 200 300 seed=2
tensor [1.5, 2, -0.25]
range 40
{name: "a long record that does not fit on one line", values: range(12), nested: {a: 1, b: [1, 2, 3]}, ok: true}
{ppl: 22.37, bits: 3}
p = plot (tensor [1, 4, 9, 16, 25, 16, 9, 4, 1]) title="a small line"
p
plot (rand 500 seed=3) kind=hist bins=20 levels=[-1.5, -0.5, 0.5, 1.5] title="normal values and four levels"
plot long x="i" y=["square", "root"] log=true title="two series, log scale" height=10
plot({oc: 84.79, ic: 227.79, ada: 86.38}, title="a record of numbers: bars")
plot [abs(rand(16, 32, seed=4)), abs(rand(16, 32, seed=5))] titles=["first", "second"] title="heatmaps side by side"
explain (tensor [0.5, -1.2, 0.3, 2.0, -0.7]) bits=2
