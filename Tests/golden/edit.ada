# edit: models as views — replace one layer, merge layers of two runs, diff two runs.
m = load
q3 = quantize m method=rtn bits=3 group=128 dim=oc
q4 = quantize m method=rtn bits=4 group=128 dim=oc
# v and down at 4 bits, the rest at 3: the merged record gives its bits per weight.
mixed = merge q3 q4 only=["v", "down"]
print mixed.bpw
d = diff q3 mixed
print len(d)
d[0:3]
# Merging every layer of q4 into q3 gives q4's layers: nothing differs.
all4 = merge q3 q4
print len(diff(all4, q4))
# A zeroed layer changes the model; the original is untouched.
w = m["blk.3.attn_v"]
z = replace m "blk.3.attn_v" (w * 0)
print z.name
pz = (perplexity z "austen:pride" windows=1 ctx=128).ppl
pm = (perplexity m "austen:pride" windows=1 ctx=128).ppl
print (pz > pm)
print (sum(abs(m["blk.3.attn_v"])) > 0)
# A layer taken from a quantized model is its packed layer, dequantized on use.
r = replace m "blk.3.attn_v" q3
print max(abs(r["blk.3.attn_v"] - q3["blk.3.attn_v"]))
# diff compares any two models of the same shape: a plain model and its edit.
diff m z
# A layer taken from a quantized model into a plain one is held packed: its spec, and its
# error against the original (the same as in q3's record).
d3 = diff r m
print d3[0].a, d3[0].b, d3[0].mse_a, (filter q3.errors module="blk.3.attn_v")[0].weight_mse
print len(diff(m, q3)), len(diff(q3, q3))
# Full-precision layers taken back into a quantized model: still a quantized model, whose
# record drops exactly those modules, as if they had been skipped when quantizing.
fpv = merge q3 m only="v"
qs = quantize m method=rtn bits=3 group=128 dim=oc skip="v"
print type(fpv), len(fpv.kept), len(fpv.errors), fpv.bpw
print (fpv.bpw == qs.bpw), (fpv.kept == qs.kept), (fpv.choices["v"] == qs.choices["v"]), len(diff(fpv, qs))
fpv
# A quantized layer replaced by a tensor is kept at full precision; by another run's layer,
# it brings that run's record.
z3 = replace q3 "blk.3.attn_v" (w * 0)
print type(z3), z3.kept, len(z3.errors), (z3.bpw > q3.bpw)
r4 = replace q3 "blk.3.attn_v" q4
filter r4.errors module="blk.3.attn_v"
print r4.bits
# With every quantized module taken back, nothing is quantized: a plain model.
print type((merge q3 m))
