# The AdaDim paper's ablation on SmolLM2-135M, as a script: which linear modules should
# take per-IC groups? Per-OC everywhere, per-IC everywhere, per-IC only on the q/k/v and
# down projections (the modules whose inputs carry the activation outliers), and AdaDim's
# per-module choice — for RTN and GPTQ at 3 and 4 bits with groups of 128 — plus one
# mixed-precision row: 4 bits for v and down, 3 bits elsewhere, dimensions by AdaDim.
#
# Run it with `scripts/ada run docs/examples/ablation.ada` (about 15 minutes on 2 cores).
# docs/results.md records its table.

m = load "smollm2"
calib   = text "austen:emma" windows=32 ctx=512     # calibration: Emma
evalset = text "austen:pride" windows=8 ctx=512     # evaluation: Pride and Prejudice
fp = (perplexity m evalset).ppl
print "full precision:", round(fp, 2)

plans = [
  {name: "per-OC", dim: oc},
  {name: "per-IC", dim: ic},
  {name: "per-IC q/k/v/down", dim: {q: ic, k: ic, v: ic, down: ic}},
  {name: "AdaDim", dim: ada},
]

rows = []
for method in ["rtn", "gptq"] {
  for bits in [3, 4] {
    for p in plans {
      q = quantize m method=method bits=bits group=128 dim=p.dim calib=calib
      ppl = (perplexity q evalset).ppl
      print method, "w" + str(bits), p.name, round(ppl, 2)
      rows = append(rows, {method: method, bits: str(bits), plan: p.name, bpw: round(q.bpw, 3), ppl: round(ppl, 2)})
    }
  }
  # Mixed precision: v and down at 4 bits, the rest at 3; AdaDim picks the dimensions.
  q = quantize m method=method bits={v: 4, down: 4, rest: 3} group=128 dim=ada calib=calib
  ppl = (perplexity q evalset).ppl
  print method, "w3/4", "AdaDim, v and down at 4 bits", round(ppl, 2)
  rows = append(rows, {method: method, bits: "3 (v, down: 4)", plan: "AdaDim", bpw: round(q.bpw, 3), ppl: round(ppl, 2)})
}
results = table rows
results

# The same table, grouped: the mean perplexity of each plan over both methods and widths.
group (filter results method="gptq") by="plan" mean="ppl"
