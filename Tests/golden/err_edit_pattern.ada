# merge with a layer pattern that is malformed.
m = load
q = quantize m method=rtn bits=4 group=128 dim=oc
merge m q only="blk.x.attn_v"
