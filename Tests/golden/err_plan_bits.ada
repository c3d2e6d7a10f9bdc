# Bits out of range for one kind: the caret is under bits, and the message names the kind.
m = load
q = quantize m bits={v: 4, down: 9, rest: 3}
print "never run"
