g = tensor [[0, 1, 2, 3]]
r = rtn g bits=2 group=4 clip=mse clip_min=0
