m = load
# top_p is a probability mass in (0, 1]: the caret points at it.
generate m "Hello" tokens=16 temperature=0.8 top_p=1.5
