m = load "smollm2"
calib = text "austen:emma" windows=1 ctx=32
t = allocate m calib budget=3 bits=[1, 3] only="blk.0.*"
