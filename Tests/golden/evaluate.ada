# evaluate: multiple-choice tasks and LAMBADA on the first examples of each split.
m = load
t = evaluate m on=[csr, lambada] limit=4
t
print t[0]
