"""Optimizers on an ill-conditioned problem: plain SGD against momentum, Adam and RMSprop.

One deep regression (8 -> 16 -> 16 -> 1, tanh, mse mean, full batch of 256): the inputs' scales
span 0.1 to 10, so the loss is 10^4 times steeper along some weights than along others, and one
lr cannot suit both for plain SGD. Each optimizer (mlp_ref.optim, torch's rules) trains from the
same initial weights at each lr of a grid; its tuned lr is the one reaching the target loss (10%
of the initial loss) in the fewest steps, or, when none reaches it, the one with the lowest loss
after STEPS steps. A run whose loss overflows counts as diverged.
"""
import numpy as np

from mlp_ref import optim
from mlp_ref.model import MLP

D, HIDDEN, N = 8, [16, 16], 256
SCALES = np.geomspace(0.1, 10, D)
STEPS = 200
TARGET = 0.1  # of the initial loss
# Up to where plain SGD diverges (1.0 does), so its tuned lr is the best it can do, not the grid's edge.
LRS = (3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0)
OPTIMIZERS = {"sgd": (optim.SGD, {}), "momentum 0.9": (optim.SGD, dict(momentum=0.9)),
              "adam": (optim.Adam, {}), "rmsprop": (optim.RMSprop, {})}
CLAIM = ("on an ill-conditioned problem, momentum and the adaptive methods (Adam, RMSprop) reach the "
         "target loss in fewer steps than plain SGD, each at its own best lr")


def problem(seed=0):
    """x (N, D) with column scales SCALES, y (N, 1) from a fixed smooth teacher plus a little noise."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, D)) * SCALES
    w = rng.standard_normal(D)
    y = np.tanh((x / SCALES) @ w / np.sqrt(D))[:, None] + 0.05 * rng.standard_normal((N, 1))
    return x, y


def curve(name, lr, x, y, seed=0):
    """The loss before each of STEPS steps (inf from the step where it overflowed)."""
    make, kwargs = OPTIMIZERS[name]
    net = MLP(D, HIDDEN, 1, f="tanh", loss="mse", reduction="mean", seed=seed)
    opt = make(net, lr=lr, **kwargs)
    losses = []
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(STEPS):
            try:
                losses.append(net.loss(net.forward(x), y))
            except ValueError:  # non-finite parameters or outputs: the run diverged
                break
            opt.zero_grad()
            net.backward()
            opt.step()
    return losses + [float("inf")] * (STEPS - len(losses))


def steps_to(losses, target):
    """The first step whose loss is <= target, or None."""
    return next((i for i, v in enumerate(losses) if v <= target), None)


def measure(seed=0):
    x, y = problem(seed)
    eigen = np.linalg.eigvalsh(x.T @ x / N)
    runs = {name: {lr: curve(name, lr, x, y, seed) for lr in LRS} for name in OPTIMIZERS}
    initial = runs["sgd"][LRS[0]][0]
    target = TARGET * initial
    best = {}
    for name, by_lr in runs.items():
        def key(lr):
            s = steps_to(by_lr[lr], target)
            return (s is None, s if s is not None else by_lr[lr][-1])
        lr = min(LRS, key=key)
        best[name] = {"lr": lr, "final": by_lr[lr][-1], "steps": steps_to(by_lr[lr], target), "curve": by_lr[lr]}
    return {"initial": initial, "target": target, "condition": float(eigen[-1] / eigen[0]), "steps": STEPS,
            "best": best}


def check(numbers):
    best = numbers["best"]
    sgd = best["sgd"]["steps"]
    faster = {name: b["steps"] is not None and (sgd is None or b["steps"] < sgd)
              for name, b in best.items() if name != "sgd"}

    def said(s):
        return f"{s} steps" if s is not None else f"not within {numbers['steps']}"
    because = (f"input covariance condition number {numbers['condition']:.3g}; steps to {TARGET:.0%} of the initial "
               f"loss: sgd {said(sgd)}, " + ", ".join(f"{name} {said(best[name]['steps'])}" for name in faster))
    return all(faster.values()), because


def table(numbers):
    header = ("optimizer", "tuned lr", f"loss after {numbers['steps']}", f"steps to {TARGET:.0%} loss")
    rows = [(name, b["lr"], b["final"], b["steps"] if b["steps"] is not None else "never")
            for name, b in numbers["best"].items()]
    return header, rows


def plot(numbers, ax):
    for name, b in numbers["best"].items():
        ax.semilogy(b["curve"], label=f"{name} (lr {b['lr']:g})")
    ax.axhline(numbers["target"], color="gray", linestyle=":", label="target")
    ax.set(xlabel="step", ylabel="loss", title="optimizers, ill-conditioned regression")
    ax.legend()
