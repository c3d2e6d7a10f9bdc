# A missing model file: a runtime error (exit 1) after the statements before it ran.
print "loading"
m = load "models/nope.gguf"
print "never run"
