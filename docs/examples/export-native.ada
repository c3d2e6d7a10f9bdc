# Export a GPTQ w4 g128 model as a native GGUF that llama.cpp runs from its own kernels.
# Run: scripts/ada run docs/examples/export-native.ada
# Then, with llama.cpp built: llama-perplexity -m smollm2-gptq-w4.gguf -f pride-50k.txt -c 512
m = load "smollm2"
calib = text "austen:emma" windows=32 ctx=512
q = quantize m method=gptq bits=4 group=128 dim=oc calib=calib
export q "smollm2-gptq-w4.gguf" type=native
q.gguf_types
# ada's fake-quant perplexity with llama.cpp's protocol, to compare with llama-perplexity:
perplexity q "austen:pride" protocol=llama.cpp chars=50000
# AdaDim: the per-IC layers go out as F16 (GGML groups along the input only).
a = quantize m method=gptq bits=4 group=128 dim=ada calib=calib
export a "smollm2-gptq-w4-ada.gguf" type=native
a.ic_counts
perplexity a "austen:pride" protocol=llama.cpp chars=50000
