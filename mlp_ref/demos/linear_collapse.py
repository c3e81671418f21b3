"""Linear collapse: two linear layers with nothing between them are one linear layer.

z = (x W1^T + b1) W2^T + b2 = x (W2 W1)^T + (W2 b1 + b2), so the stack is the single layer
W = W2 W1, b = W2 b1 + b2, whose rank is at most min(D, H, K). Put a ReLU between them and no
single affine layer fits: the least-squares affine fit to the network's outputs leaves a residual.
"""
import numpy as np

from mlp_ref import functional as fn
from mlp_ref.compare import compare
from mlp_ref.tolerances import tolerance

WIDTHS = ((5, 8, 3), (6, 2, 5), (10, 3, 10))  # (D, H, K): the middle one is a bottleneck
N = 500
CLAIM = ("two linear layers equal one with W = W2 W1, b = W2 b1 + b2 to float64 rounding (1e-12), rank(W2 W1) "
         "<= min(D, H, K), and with a ReLU between them no single affine layer fits")


def affine_residual(x, y):
    """Relative residual ||y - fit|| / ||y - mean y|| of the least-squares affine fit of y on x."""
    design = np.hstack([x, np.ones((x.shape[0], 1))])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(np.linalg.norm(y - design @ coef) / np.linalg.norm(y - y.mean(axis=0)))


def measure(seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for d, h, k in WIDTHS:
        W1, b1 = rng.standard_normal((h, d)), rng.standard_normal(h)
        W2, b2 = rng.standard_normal((k, h)), rng.standard_normal(k)
        x = rng.standard_normal((N, d))
        z1, _ = fn.linear_forward(x, W1, b1)
        two_layers, _ = fn.linear_forward(z1, W2, b2)
        one_layer, _ = fn.linear_forward(x, W2 @ W1, W2 @ b1 + b2)
        c = compare("collapse", two_layers, one_layer, tolerance("float64"))
        relu_net, _ = fn.linear_forward(fn.relu_forward(z1)[0], W2, b2)
        rows.append({"widths": (d, h, k), "max_diff": c.max_abs, "max_rel": c.max_rel, "collapse_ok": c.ok,
                     "rank": int(np.linalg.matrix_rank(W2 @ W1)), "min_width": min(d, h, k),
                     "linear_residual": affine_residual(x, two_layers), "relu_residual": affine_residual(x, relu_net)})
    return {"rows": rows}


def check(numbers):
    rows = numbers["rows"]
    collapse = all(r["collapse_ok"] for r in rows)
    rank = all(r["rank"] <= r["min_width"] for r in rows)
    fits = all(r["linear_residual"] < 1e-10 for r in rows)
    relu = all(r["relu_residual"] > 0.01 for r in rows)
    because = (f"max |two layers - one| = {max(r['max_diff'] for r in rows):.2g}; ranks "
               f"{[r['rank'] for r in rows]} vs min widths {[r['min_width'] for r in rows]}; affine-fit residual "
               f"{max(r['linear_residual'] for r in rows):.2g} without ReLU, >= "
               f"{min(r['relu_residual'] for r in rows):.2g} with")
    return collapse and rank and fits and relu, because


def table(numbers):
    header = ("D-H-K", "max |2 layers - 1|", "rank W2W1", "min width", "fit residual linear", "fit residual relu")
    return header, [("-".join(map(str, r["widths"])), r["max_diff"], r["rank"], r["min_width"],
                     r["linear_residual"], r["relu_residual"]) for r in numbers["rows"]]


def plot(numbers, ax):
    rows = numbers["rows"]
    labels = ["-".join(map(str, r["widths"])) for r in rows]
    x = np.arange(len(rows))
    floor = 1e-18  # log axis: an exact 0 is drawn at the floor
    ax.bar(x - 0.2, [max(r["linear_residual"], floor) for r in rows], 0.4, label="no ReLU")
    ax.bar(x + 0.2, [max(r["relu_residual"], floor) for r in rows], 0.4, label="ReLU between")
    ax.set_yscale("log")
    ax.set_xticks(x, labels)
    ax.set(xlabel="widths D-H-K", ylabel="affine-fit residual", title="linear collapse")
    ax.legend()
