"""Activations side by side: output range, derivative range, zero gradients on N(0, 1) inputs.

Ranges are measured on a grid over [-20, 20] that contains 0 exactly (so ReLU's kink is hit), and
held against the exact range;
derivatives come from the reference's own backward with dout = 1.
"""
import numpy as np

from mlp_ref import functional as fn

NAMES = fn.HIDDEN_ACTIVATIONS
# The output range in exact arithmetic; float64 reaches the open ends (sigmoid(40) == 1.0), so the
# check uses them as closed bounds.
RANGE = {"identity": (-np.inf, np.inf, "(-inf, inf)"), "relu": (0, np.inf, "[0, inf)"),
         "leaky_relu": (-np.inf, np.inf, "(-inf, inf)"), "sigmoid": (0, 1, "(0, 1)"), "tanh": (-1, 1, "(-1, 1)")}
GRID = np.linspace(-20, 20, 40001)
SAMPLES = 100_000
CLAIM = ("on standard normal inputs relu zeroes about half the gradients and the others none; sigmoid' <= 1/4, "
         "tanh' <= 1, relu' and leaky_relu' take two values, identity' is 1")


def measure(seed=0):
    normal = np.random.default_rng(seed).standard_normal((1, SAMPLES))
    rows = []
    for name in NAMES:
        forward, backward = fn.ACTIVATIONS[name][:2]
        out, cache = forward(GRID[None, :])
        slope = backward(np.ones((1, GRID.size)), cache)
        _, cache_n = forward(normal)
        zero = float(np.mean(backward(np.ones_like(normal), cache_n) == 0))
        rows.append({"name": name, "out_min": float(out.min()), "out_max": float(out.max()),
                     "slope_min": float(slope.min()), "slope_max": float(slope.max()),
                     "slope_values": int(np.unique(slope).size), "zero_grad_fraction": zero})
    return {"rows": rows}


def check(numbers):
    r = {row["name"]: row for row in numbers["rows"]}
    relu_half = abs(r["relu"]["zero_grad_fraction"] - 0.5) < 0.01
    others_none = all(r[n]["zero_grad_fraction"] == 0 for n in NAMES if n != "relu")
    ranges = all(RANGE[n][0] <= r[n]["out_min"] and r[n]["out_max"] <= RANGE[n][1] for n in NAMES)
    slopes = (r["sigmoid"]["slope_max"] <= 0.25 and r["tanh"]["slope_max"] <= 1
              and r["relu"]["slope_values"] == 2 and r["leaky_relu"]["slope_values"] == 2
              and r["identity"]["slope_min"] == r["identity"]["slope_max"] == 1)
    because = (f"relu zero-gradient fraction {r['relu']['zero_grad_fraction']:.4f}, others "
               f"{max(r[n]['zero_grad_fraction'] for n in NAMES if n != 'relu'):g}; max sigmoid' "
               f"{r['sigmoid']['slope_max']:.4g}, max tanh' {r['tanh']['slope_max']:.4g}")
    return relu_half and others_none and ranges and slopes, because


def table(numbers):
    header = ("activation", "range", "out min", "out max", "f' min", "f' max", "zero grads on N(0,1)")
    return header, [(r["name"], RANGE[r["name"]][2], r["out_min"], r["out_max"], r["slope_min"], r["slope_max"],
                     r["zero_grad_fraction"]) for r in numbers["rows"]]


def plot(numbers, ax):
    rows = numbers["rows"]
    x = np.arange(len(rows))
    ax.bar(x - 0.2, [r["slope_max"] for r in rows], 0.4, label="max derivative")
    ax.bar(x + 0.2, [r["zero_grad_fraction"] for r in rows], 0.4, label="zero-gradient fraction")
    ax.set_xticks(x, [r["name"] for r in rows])
    ax.set(title="activations")
    ax.legend()
