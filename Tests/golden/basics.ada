# Values, expressions, blocks and functions; unassigned expressions show their values.
x = 7
y = 2.5
x * y + 1
x / 4
x % 3
-x % 3
"ada" + " " + "shell"
[1, 2, 3] + [4]
not (x > 3 and y < 2)
x == 7 or false
none

# Lists, records, indexing and slicing
xs = [10, 20, 30, 40, 50]
xs[0]
xs[-1]
xs[1:3]
xs[:2]
r = {name: "emma", windows: 128, ctx: 512, nested: {bits: 3}}
r.windows * r.ctx
r.nested.bits
r["name"]
keys r
len xs
len "héllo"

# Command syntax and call syntax are the same calls
round 3.14159 digits=2
round(3.14159, digits=2)
round(2.5)
round 3.5
(round 2.71828 3) * 2
print "x is", x, "and y is" y
print "sum:" (sum xs) "mean:" mean(xs)
format 22.37123 2
str(3) + "/" + str(4.5)
type r
range 5
range 2 8 step=3
range 3 0 -1

# Blocks
total = 0
for v in xs {
  if v > 30 {
    break
  } else if v == 20 {
    continue
  }
  total += v
}
total
for c in "abc" { print c }
if len(xs) > 3 { print "long" } else { print "short" }

# Functions: defaults, keyword arguments, both call styles, recursion
fn scaled(v, factor=2) {
  return v * factor
}
scaled 5
scaled 5 factor=10
scaled(5, factor=3)
fn fact(n) {
  if n <= 1 { return 1 }
  return n * fact(n - 1)
}
fact 10
fn noreturn() { z = 1 }
noreturn
# Functions see globals; their own assignments stay local
g = 100
fn useg(a) {
  g2 = g + a
  return g2
}
useg 1
g

# Tables
rows = []
for bits in [2, 3, 4] {
  rows = append(rows, {bits: bits, label: "b" + str(bits), score: bits * 1.5})
}
t = table rows
t
t[1]
t["score"]
sort t by="score" desc=true
sort [3, 1, 2]
sort ["pear", "apple"]
