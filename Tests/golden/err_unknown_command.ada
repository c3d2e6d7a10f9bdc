# An unknown command is found by the check before anything runs (exit 1).
print "never run"
m = load "smollm2"
r = perplexty m "austen:pride" windows=2
