# A syntax error: nothing runs (exit 2).
print "this line is never run"
for x in [1, 2, 3] {
  y = x +* 2
}
