# Replaying a table that does not cover every module quantized: the first one missing is named.
m = load
qa = quantize m only="blk.0-1.*" dim={v: ic}
q = quantize m dim=qa.errors
print "never run"
