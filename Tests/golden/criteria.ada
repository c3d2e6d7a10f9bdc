# AdaDim's criteria beyond the block criterion, on the first blocks of SmolLM2.
m = load "smollm2"
calib = text "austen:emma" windows=2 ctx=64
# kl: the model's KL from full precision on kl_windows windows; units of kl_blocks blocks per kind.
k = quantize m bits=3 group=128 dim=ada criterion=kl kl_windows=2 kl_blocks=2 calib=calib only="blk.0-3.*"
k
# err_oc/err_ic are the KL with the module's unit per-OC and per-IC; the chosen one is the smaller.
e = k.errors
print (e[0].err_oc > 0), (e[0].err_ic > 0), e[0].dim
# quantizer: GPTQ candidates in both dimensions, judged at the block's outputs. GPTQ on 128
# calibration tokens is sensitive to rounding (its errors move by a few percent with the
# thread count), so this prints the table's columns and, per module, that the chosen
# dimension is the one with the smaller error, not the errors themselves.
g = quantize m method=gptq bits=3 group=128 dim=ada criterion=quantizer calib=calib only="blk.0.*"
g.errors.columns
for r in g.errors { print r.module, ((r.dim == "ic") == (r.err_ic < r.err_oc)) }
b = quantize m method=gptq bits=3 group=128 dim=ada criterion=block calib=calib only="blk.0.*"
for r in b.errors { print r.module, ((r.dim == "ic") == (r.err_ic < r.err_oc)) }
# The two criteria judge different candidates: their errors differ.
print (g.errors[0].err_oc != b.errors[0].err_oc)
