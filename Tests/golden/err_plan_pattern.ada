# A layer pattern that matches no module: the caret is under skip.
m = load
q = quantize m bits=3 skip=["v", "blk.30-31.*"]
print "never run"
