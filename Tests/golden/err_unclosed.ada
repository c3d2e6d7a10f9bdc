# A block left open at the end of the file.
print "never run"
for x in [1, 2, 3] {
  print x
