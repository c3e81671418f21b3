"""Vanishing gradients: the first layer's gradient in deep stacks of one activation.

Each stack composes mlp_ref.functional layers, z = h W^T + b then h = act(z), `depth` times, all
width 32, Xavier-uniform weights and zero biases for every activation, so only the activation
differs. A random upstream gradient enters at the top; the table shows ||dW|| of the first layer
for each activation, and of the sigmoid stack's top layer, where the gradient enters.
"""
import numpy as np

from mlp_ref import functional as fn

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")
DEPTHS = (2, 4, 6, 8, 10, 12, 14, 16, 18, 20)
WIDTH, BATCH = 32, 64
CLAIM = ("the sigmoid's derivative never exceeds 1/4, so the first layer's gradient shrinks roughly "
         "geometrically with depth; at depth 10 it is at least 100x smaller than a relu stack's")


def layer_gradient_norms(act, depth, seed=0):
    """||dW|| for each layer, first layer first, of a `depth`-deep stack of `act` layers."""
    rng = np.random.default_rng(seed)
    bound = np.sqrt(6 / (2 * WIDTH))
    h = rng.standard_normal((BATCH, WIDTH))
    forward, backward = fn.ACTIVATIONS[act]
    caches = []
    for _ in range(depth):
        z, linear = fn.linear_forward(h, rng.uniform(-bound, bound, (WIDTH, WIDTH)), np.zeros(WIDTH))
        h, activation = forward(z)
        caches.append((linear, activation))
    dout = rng.standard_normal(h.shape)
    norms = []
    for linear, activation in reversed(caches):
        dout, dW, _ = fn.linear_backward(backward(dout, activation), linear)
        norms.append(float(np.linalg.norm(dW)))
    return norms[::-1]


def sigmoid_slope_max():
    """max of sigmoid'(z) = s (1 - s) on a fine grid through 0, via the reference's own backward."""
    z = np.linspace(-20, 20, 40001)[None, :]
    _, cache = fn.sigmoid_forward(z)
    return float(fn.sigmoid_backward(np.ones_like(z), cache).max())


def measure(seed=0):
    norms = {act: [layer_gradient_norms(act, d, seed) for d in DEPTHS] for act in ACTIVATIONS}
    return {"depths": list(DEPTHS), "first_layer": {act: [n[0] for n in norms[act]] for act in ACTIVATIONS},
            "sigmoid_top_layer": [n[-1] for n in norms["sigmoid"]], "sigmoid_slope_max": sigmoid_slope_max()}


def per_layer_factor(depths, norms):
    """The geometric factor per added layer (least-squares fit of log norm on depth) and the fit's R^2."""
    logs = np.log(norms)
    slope, intercept = np.polyfit(depths, logs, 1)
    residual = logs - (slope * np.asarray(depths) + intercept)
    r2 = 1 - residual.var() / logs.var()
    return float(np.exp(slope)), float(r2)


def check(numbers):
    depths, first = numbers["depths"], numbers["first_layer"]
    i10 = depths.index(10)
    ratio = first["relu"][i10] / first["sigmoid"][i10]
    factor, r2 = per_layer_factor(depths, first["sigmoid"])
    supported = numbers["sigmoid_slope_max"] <= 0.25 and ratio >= 100 and factor < 0.5 and r2 > 0.95
    because = (f"max sigmoid' = {numbers['sigmoid_slope_max']:.4g}; sigmoid's first-layer gradient x{factor:.3g} "
               f"per layer (log-linear fit R^2 {r2:.3f}); depth 10: relu/sigmoid = {ratio:.3g}")
    return supported, because


def table(numbers):
    header = ("depth",) + tuple(f"||dW1|| {act}" for act in ACTIVATIONS) + ("||dW top|| sigmoid",)
    rows = [(d,) + tuple(numbers["first_layer"][act][i] for act in ACTIVATIONS) + (numbers["sigmoid_top_layer"][i],)
            for i, d in enumerate(numbers["depths"])]
    return header, rows


def plot(numbers, ax):
    for act in ACTIVATIONS:
        ax.semilogy(numbers["depths"], numbers["first_layer"][act], marker="o", label=act)
    ax.set(xlabel="depth", ylabel="first-layer ||dW||", title="vanishing gradients")
    ax.legend()
