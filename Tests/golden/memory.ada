# memory: the budget for materialized blocks, and where it comes from.
memory
memory "512M"
print (memory).size, (memory).source
memory 1048576
# A budget of one byte keeps no block: evaluate materializes each block again, with the
# same numbers.
memory 1
m = load
q = quantize m method=rtn bits=3 group=128 dim=oc only="v"
small = evaluate q on=piqa limit=4
memory "default"
print (memory).source
big = evaluate q on=piqa limit=4
print (small["value"] == big["value"]), small["value"]
