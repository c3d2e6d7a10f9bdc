# A table given to dim= without a dim column: the caret is under dim.
m = load
t = layers m
q = quantize m dim=t
print "never run"
