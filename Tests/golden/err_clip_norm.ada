m = load "smollm2"
q = quantize m bits=3 clip=mse clip_norm=-1
