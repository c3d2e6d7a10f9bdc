# Parameterized with --set: the assignments below are defaults.
bits = 4
label = "four"
print "bits", bits, label
