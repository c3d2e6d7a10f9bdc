# Plots written as SVG files (checked by svg.cmd): a line plot with two series, a histogram
# with levels, a bar chart, heatmaps side by side, a 600-point profile.
t = table [{method: "rtn", bits: 2, ppl: 812.3}, {method: "rtn", bits: 3, ppl: 45.1}, {method: "rtn", bits: 4, ppl: 23.9}, {method: "gptq", bits: 2, ppl: 120.5}, {method: "gptq", bits: 3, ppl: 28.2}, {method: "gptq", bits: 4, ppl: 22.8}]
p = plot t x="bits" y="ppl" by="method" log=true to="line.svg" title="perplexity vs bits"
print p.kind, p.points, p.series, p.file
p = plot (rand 1000 seed=2) kind=hist bins=25 levels=[-1.5, -0.5, 0.5, 1.5] to="hist.svg" title="values & levels <3>"
print p.kind, p.bins, len(p.levels)
p = plot t x="method" y="ppl" to="bar.svg"
print p.kind, p.bars
p = plot [abs(rand(64, 128, seed=1)), abs(rand(64, 128, seed=2))] titles=["per-OC", "per-IC"] to="heat.svg" title="|W| side by side"
print p.kind, p.panels
p = plot (rand 600 seed=4) to="profile.svg" xlabel="input channel" ylabel="max|x|"
print p.kind, p.points
plot (tensor [1, 2]) to="not-svg.png"
