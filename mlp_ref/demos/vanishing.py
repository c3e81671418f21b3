"""Vanishing gradients: the first layer's gradient in deep stacks of one activation.

Each stack is the reference MLP with `depth` Linear layers, z_l = h_{l-1} W_l^T + b_l then
h_l = act(z_l) (the output layer too), all width 32, Xavier-uniform weights and zero biases for every
activation, so only the activation differs. A random upstream gradient enters at the top; the table
shows ||dW1|| of the first layer for each activation, and ||dW|| of the sigmoid stack's top layer,
where the gradient enters.
"""
import numpy as np

from mlp_ref import functional as fn
from mlp_ref.model import MLP

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")
DEPTHS = (2, 4, 6, 8, 10, 12, 14, 16, 18, 20)
WIDTH, BATCH = 32, 64
CLAIM = ("the sigmoid's derivative never exceeds 1/4, so the first layer's gradient shrinks roughly "
         "geometrically with depth; at depth 10 it is at least 100x smaller than a relu stack's")


def layer_gradient_norms(act, depth, seed=0):
    """||dW_l|| for each layer, first layer first, of a `depth`-deep MLP of `act` layers."""
    net = MLP(WIDTH, [WIDTH] * (depth - 1), WIDTH, f=act, g=act, init="xavier", seed=seed)
    rng = np.random.default_rng(seed + 1)
    x, dout = rng.standard_normal((BATCH, WIDTH)), rng.standard_normal((BATCH, WIDTH))
    y_hat = net.forward(x)
    # mse with reduction "sum" has dL/dy_hat = 2 (y_hat - y): this target makes it the random dout.
    net.loss(y_hat, y_hat - dout / 2)
    net.zero_grad()
    net.backward()
    return [float(np.linalg.norm(net.grads[f"W{l}"])) for l in range(1, depth + 1)]


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


# relu and leaky_relu stacks give almost the same curve: relu wide with hollow markers under leaky_relu
# dashed with crosses, so both stay visible where they coincide.
STYLES = {"sigmoid": dict(linestyle="-", marker="^"), "tanh": dict(linestyle="-.", marker="s"),
          "relu": dict(linestyle="-", marker="o", markersize=9, markerfacecolor="none", linewidth=3),
          "leaky_relu": dict(linestyle="--", marker="x", markersize=7, linewidth=1.5)}


def plot(numbers, ax):
    for act in ACTIVATIONS:
        ax.semilogy(numbers["depths"], numbers["first_layer"][act], label=act, **STYLES[act])
    ax.set(xlabel="depth", ylabel="first-layer ||dW||", title="vanishing gradients")
    ax.legend()
