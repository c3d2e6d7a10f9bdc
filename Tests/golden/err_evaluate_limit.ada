m = load
evaluate m on=piqa limit=0
