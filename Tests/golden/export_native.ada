# Native GGUF export: per-OC layers in GGML's block types, the rest F16.
m = load "smollm2"
q = quantize m method=rtn bits=4 group=128 dim=oc
export q "w4.gguf" type=native
t = q.gguf_types
t[0:2]
n = load "w4.gguf"
# The file decodes to the quantized weights up to fp16 scales: the same perplexity.
(perplexity q "austen:pride" windows=1 ctx=128).ppl
(perplexity n "austen:pride" windows=1 ctx=128).ppl
# 3-bit min/max codes fit Q4_0; the per-IC layer has no GGML block and stays F16.
p = quantize m method=rtn bits=3 group=128 dim={v: ic} only="blk.0.*"
p.gguf_types
