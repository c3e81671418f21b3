"""Dead ReLUs: hidden units that never activate on the data get no gradient, so they stay dead.

A 4 -> 32 -> 1 regression MLP (mse, mean) trained by full-batch SGD from the same init for 50 steps
under three conditions: lr 0.05 throughout; a burst of 3 steps at lr 0.5 and then 47 at 0.05 (the
burst kills units, the calm steps after it cannot revive them); the hidden biases shifted down by 3. A unit is
inactive when z1 <= 0 for every sample; for relu its row of dW1 (and db1) is then exactly 0,
while leaky_relu passes slope * dout back and keeps the unit trainable.
"""
import numpy as np

from mlp_ref import MLP

N, D, HIDDEN = 256, 4, 32
# (label, [(lr, steps), ...], shift of b1)
CONDITIONS = (("lr 0.05", ((0.05, 50),), 0.0), ("3 x lr 0.5, then 0.05", ((0.5, 3), (0.05, 47)), 0.0),
              ("b1 - 3, lr 0.05", ((0.05, 50),), -3.0))
CLAIM = ("a large learning rate or a negative bias shift leaves relu units that never activate on the data; "
         "they get exactly zero gradient, so they stay dead, while leaky_relu keeps a gradient flowing to every unit")


def task(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, D))
    y = 3 * np.sin(x @ rng.standard_normal(D)) + x[:, 0] ** 2
    return x, y[:, None]


def inactive(net, x):
    net.forward(x)
    return (net.cache.z1 <= 0).all(axis=0)


def train(f, schedule, shift, x, y, seed=0):
    net = MLP(D, HIDDEN, 1, f=f, loss="mse", reduction="mean", seed=seed)
    net.params["b1"] += shift
    before = float(inactive(net, x).mean())
    first_loss = net.loss(net.forward(x), y)
    for lr, steps in schedule:
        for _ in range(steps):
            net.loss(net.forward(x), y)
            net.zero_grad()
            net.backward()
            net.step(lr)
    dead = inactive(net, x)
    last_loss = net.loss(net.forward(x), y)
    net.zero_grad()
    net.backward()
    dW1 = net.grads["W1"]
    zero_rows = (dW1 == 0).all(axis=1)
    return {"condition": None, "f": f, "inactive_before": before, "inactive_after": float(dead.mean()),
            "n_inactive": int(dead.sum()), "zero_grad_rows": int(zero_rows.sum()),
            "inactive_with_zero_grad": int((dead & zero_rows).sum()),
            "inactive_grad_norm": float(np.linalg.norm(dW1[dead])), "loss_start": first_loss, "loss_end": last_loss}


def measure(seed=0):
    x, y = task(seed)
    rows = []
    for label, schedule, shift in CONDITIONS:
        for f in ("relu", "leaky_relu"):
            rows.append({**train(f, schedule, shift, x, y, seed), "condition": label})
    return {"rows": rows}


def check(numbers):
    r = {(row["condition"], row["f"]): row for row in numbers["rows"]}
    base, large, shift = (c[0] for c in CONDITIONS)
    relu_dies = (r[large, "relu"]["n_inactive"] > r[base, "relu"]["n_inactive"]
                 and r[shift, "relu"]["inactive_after"] >= 0.9)
    relu_zero = all(row["inactive_with_zero_grad"] == row["n_inactive"] for row in numbers["rows"] if row["f"] == "relu")
    leaky_flows = all(row["zero_grad_rows"] == 0 and (row["n_inactive"] == 0 or row["inactive_grad_norm"] > 0)
                      for row in numbers["rows"] if row["f"] == "leaky_relu")
    because = (f"relu inactive: {r[base, 'relu']['inactive_after']:.0%} ({base}), {r[large, 'relu']['inactive_after']:.0%} "
               f"({large}), {r[shift, 'relu']['inactive_after']:.0%} ({shift}), every one with a zero dW1 row; "
               f"leaky_relu zero-gradient rows: {max(row['zero_grad_rows'] for row in numbers['rows'] if row['f'] == 'leaky_relu')}")
    return relu_dies and relu_zero and leaky_flows, because


def table(numbers):
    header = ("condition", "f", "inactive before", "inactive after", "zero dW1 rows", "||dW1|| inactive",
              "loss start", "loss end")
    return header, [(r["condition"], r["f"], r["inactive_before"], r["inactive_after"], r["zero_grad_rows"],
                     r["inactive_grad_norm"], r["loss_start"], r["loss_end"]) for r in numbers["rows"]]


def plot(numbers, ax):
    # Horizontal bars: the condition labels are long, and stacked on the y axis they never collide.
    rows = numbers["rows"]
    y = np.arange(len(rows))
    ax.barh(y - 0.2, [r["inactive_after"] for r in rows], 0.4, label="inactive on all data")
    ax.barh(y + 0.2, [r["zero_grad_rows"] / HIDDEN for r in rows], 0.4, label="zero dW1 row")
    ax.set_yticks(y, [f"{r['condition']}, {r['f']}" for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.7)  # room for the legend, top right, where the first rows have no dead units
    ax.set(xlabel="fraction of hidden units", title="dead relu: no gradient; leaky_relu: some")
    ax.legend(loc="upper right", fontsize=8)
