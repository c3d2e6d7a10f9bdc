# Joining on a column one of the tables does not have: the caret is under that table.
errs = table [{layer: "blk.0.q", mse: 0.5}, {layer: "blk.1.q", mse: 2}]
sizes = table [{name: "blk.0.q", params: 64}]
group errs by="layer" mean="mse"
join errs sizes on="layer"
print "not reached"
