# A literal argument of the wrong type is reported before the script runs.
print "never run"
x = round "3.7"
