# Indexing errors.
xs = [1, 2, 3]
r = {ppl: 22.4}
print r.ppl
print r.pll
