# Tensors: creation, deterministic random values, reductions, slicing, products.
a = tensor [[1, 2, 3], [4, 5, 6]]
a
shape a
a.shape
a.rows
sum a
sum a axis=0
mean a axis=1
max a
min a
absmax (a - 10)
transpose a
matmul a (transpose a)
a * 2 + 1
a + a
a[1]
a[1, 2]
a[:, 1:]
a[0:1, :]
reshape a 3 2
reshape a -1
zeros 2 3
ones [2, 2]
r1 = rand 3 4 seed=42
r2 = rand 3 4 seed=42
sum (r1 - r2)
r1 == r2
r1 == rand(3, 4, seed=43)
round (mean r1) 4
u = rand 1000 seed=1 dist=uniform
min(u) >= 0 and max(u) < 1
round (mean u) 1
n = rand 10000 seed=3
round (mean n) 1
round (sqrt (mean (n * n))) 1
abs (tensor [-1.5, 2])
for row in a { print row.shape, sum(row) }
