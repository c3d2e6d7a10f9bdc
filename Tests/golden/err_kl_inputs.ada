m = load "smollm2"
calib = text "austen:emma" windows=1 ctx=32
q = quantize m bits=3 dim=ada criterion=kl inputs=quantized calib=calib only="blk.0.*"
