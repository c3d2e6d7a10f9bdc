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
