# An operator after a command's arguments.
xs = [1, 2, 3]
if len xs > 2 { print "long" }
