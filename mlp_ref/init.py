"""The initial weights: torch's nn.Linear default, or Glorot (xavier) uniform with zero biases.

Drawn in float64, layer by layer (W then b), then cast: a float32 model starts from the rounded
float64 one, and a model with one hidden layer draws exactly what the two-layer model drew.
"""
import numpy as np

INITS = ("torch", "xavier")


def draw(sizes, init, seed, dtype):
    """{W1, b1, ..., WL, bL} for widths sizes = (n_in, n_1, ..., n_out).   W_l: (n_l, n_{l-1}), b_l: (n_l,)"""
    rng = np.random.default_rng(seed)
    params = {}
    for l, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:]), start=1):
        if init == "torch":
            # nn.Linear's default: W and b uniform in +-1/sqrt(fan_in).
            bound = 1 / np.sqrt(fan_in)
            W = rng.uniform(-bound, bound, (fan_out, fan_in))
            b = rng.uniform(-bound, bound, fan_out)
        else:
            bound = np.sqrt(6 / (fan_in + fan_out))
            W = rng.uniform(-bound, bound, (fan_out, fan_in))
            b = np.zeros(fan_out)
        params[f"W{l}"], params[f"b{l}"] = W.astype(dtype), b.astype(dtype)
    return params
