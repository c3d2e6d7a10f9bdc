# Lesson 1: the integer grid
#
# A weight of a neural network is a 32-bit floating-point number. To store it in b bits,
# a quantizer keeps only 2^b possible values, the "levels" of a grid, and replaces every
# weight by the nearest level. Weights are quantized in small groups (a few dozen to a few
# hundred numbers); each group gets its own grid, described by two numbers: a step
# (the scale) and the code that stands for zero (the zero point). This lesson builds that
# grid by hand for a few numbers. Run it with `scripts/ada run docs/examples/lesson-1-grid.ada`.

# Eight weights, quantized with 2 bits: 4 levels. `explain` shows every step.
w = tensor [0.5, -1.2, 0.3, 2.0, -0.7, 0.9, -0.1, 1.4]
explain w bits=2

# More bits, a finer grid: each extra bit doubles the levels and halves the step, so the
# error shrinks about 4× (6 dB) per bit.
for b in [2, 3, 4, 8] {
  e = explain w bits=b
  print b, "bits:", len(e.levels), "levels, scale", round(e.scale, 4), "MSE", round(e.mse, 6)
}

# One outlier stretches the grid for everyone. The same small weights, once without and
# once with a single large value in their group:
calm    = tensor [0.12, -0.31, 0.22, 0.41, -0.08, 0.27, -0.19, 0.05]
outlier = tensor [0.12, -0.31, 0.22, 0.41, -0.08, 0.27, -0.19, 3.0]
a = explain calm bits=3
b = explain outlier bits=3
print "without the outlier: scale", round(a.scale, 4), "codes", a.codes
print "with the outlier:    scale", round(b.scale, 4), "codes", b.codes
ea = tensor a.error[0:7]
eb = tensor b.error[0:7]
print "MSE of the seven small weights:", round(mean(ea * ea), 6), "without,", round(mean(eb * eb), 6), "with the outlier"

# The seven small weights now share two or three levels: that is why outliers hurt, and
# why where the group boundaries run matters (lesson 2).

# The zero point. A group whose values are all positive: the reference recipe clamps the
# zero point into 0…2^b−1, which shifts the grid away from the values.
g = tensor [[0.5, 0.6, 0.7, 1.0]]
explain g bits=2 grid=reference
# ada's default grid keeps the zero point unclamped, so the levels cover the group:
e = explain g bits=2
print "minmax levels", e.levels, "→", e.dequantized

# A real group: 128 weights of one row of a layer of SmolLM2, quantized to 3 bits.
m = load
explain m["blk.3.ffn_down"] bits=3 group=128 at=[5, 0]
