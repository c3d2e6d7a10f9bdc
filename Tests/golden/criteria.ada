# AdaDim's criteria beyond the block criterion, on the first blocks of SmolLM2.
m = load "smollm2"
calib = text "austen:emma" windows=2 ctx=64
# kl: the model's KL from full precision on kl_windows windows; units of kl_blocks blocks per kind.
k = quantize m bits=3 group=128 dim=ada criterion=kl kl_windows=2 kl_blocks=2 calib=calib only="blk.0-3.*"
k
# err_oc/err_ic are the KL with the module's unit per-OC and per-IC; the chosen one is the smaller.
e = k.errors
print (e[0].err_oc > 0), (e[0].err_ic > 0), e[0].dim
# quantizer: GPTQ candidates in both dimensions, judged at the block's outputs.
g = quantize m method=gptq bits=3 group=128 dim=ada criterion=quantizer calib=calib only="blk.0.*"
g.errors
b = quantize m method=gptq bits=3 group=128 dim=ada criterion=block calib=calib only="blk.0.*"
b.errors
