# A wrong argument type found at run time: the caret is under the argument.
n = "8"
print "before"
t = rand 2 2 seed=n
print "never run"
