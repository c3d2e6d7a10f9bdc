# Bits per module under a budget: block 0's modules at 2, 3 or 4 bits in groups of 64 cost
# 2.5, 3.5 or 4.5 bits per weight (codes plus a 16-bit scale and zero per group).
m = load "smollm2"
calib = text "austen:emma" windows=2 ctx=64
t = allocate m calib budget=3.5 bits=[2, 3, 4] group=64 only="blk.0.*"
t
# quantize replays the table: each module's bits and dim as allocated (q.bpw also counts the
# modules kept at full precision, at 16 bits).
q = quantize m bits=t dim=t group=64 only="blk.0.*"
q.errors
# Both dimensions: the choice is (bits, dim) per module.
a = allocate m calib budget=3.5 bits=[2, 3, 4] group=64 dim=ada only="blk.0.*"
a
qa = quantize m bits=a dim=a group=64 only="blk.0.*"
qa.errors
# A budget that fits every module at 4 bits takes 4 bits everywhere.
allocate m calib budget=5 bits=[3, 4] group=64 only="blk.0.*"
