# Text generation on the real model: greedy decoding with a KV cache is deterministic.
m = load
r = generate m "The capital of France is" tokens=12
print r.text
r.new_tokens
r.prompt_tokens
r.stop
r.ids
# Sampling with a seed writes the same text every time; top_k=1 is greedy.
s = generate m "Once upon a time" tokens=10 temperature=0.9 top_p=0.9 seed=3
s.text == (generate m "Once upon a time" tokens=10 temperature=0.9 top_p=0.9 seed=3).text
(generate m "Once upon a time" tokens=10 temperature=0.7 top_k=1 seed=9).text == (generate m "Once upon a time" tokens=10).text
# Side by side: the full-precision model and its RTN 4-bit variant, one row each.
q = quantize m method=rtn bits=4 group=128
t = generate [m, q] "My favourite thing about the sea is" tokens=16
t
for row in t {
    print row.model + ": " + row.text
}
