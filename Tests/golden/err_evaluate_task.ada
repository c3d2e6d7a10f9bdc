m = load
evaluate m on=[piqa, hellasag] limit=1
