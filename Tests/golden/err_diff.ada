# diff with a negative tolerance.
m = load
diff m m tol=-1
