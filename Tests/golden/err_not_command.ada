# A variable used as a command (here: subtraction without spaces).
x = 10
y = x -1
