# The model and texts (the one golden script that loads the model).
m = load
m
m.blocks
m.hidden
w = m["blk.3.ffn_down"]
shape w
round (absmax w) 4
shape m["blk.0.attn_k"]
t = layers m
len t
t[0:3]
t[209]
tokens "Hello world! 123"
decode [19556, 905, 17, 216, 33, 34, 35]
calib = text "austen:emma" windows=4 ctx=128
calib
len calib
decode calib[0][0:12]
r = perplexity m "austen:pride" windows=2 ctx=64
round r.ppl 2
r.tokens
keys r
# llama.cpp's protocol: every whole chunk of 128 tokens of the first 5,000 characters, the
# second half of each scored (63 tokens per chunk).
l = perplexity m "austen:pride" protocol=llama.cpp ctx=128 chars=5000
round l.ppl 2
l.windows
l.tokens
l.protocol
round (perplexity m calib windows=2 ctx=64).ppl 2
q = quantize m bits=3 group=128 dim=oc
q
qa = quantize m bits=3 group=128 dim=ada calib=calib select=2
qa
qa.errors[0:7]
