# Unknown names and arguments, with suggestions; every problem is listed.
results = []
print reslts
x = round 2.5 digts=1
