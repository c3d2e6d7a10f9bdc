# A short study, written as a notebook by notebook.cmd.
#
# Comments between statements become the notebook's prose.

w = tensor [0.5, -1.2, 0.3, 2.0, -0.7, 0.9, -0.1, 1.4]
print "eight weights, absmax", absmax(w)

# A table, then a plot.
t = table [{bits: 2, mse: 0.0824}, {bits: 3, mse: 0.0178}, {bits: 4, mse: 0.0063}]
t
plot t x="bits" y="mse" log=true title="MSE vs bits"   # a trailing comment stays with its code

# Values shown inside a loop with show.
for b in [2, 3] {
  show (explain w bits=b).levels
}
explain w bits=2
