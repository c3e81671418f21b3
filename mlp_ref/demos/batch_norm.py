"""Batch norm and dropout: a deep sigmoid stack that trains only with batch norm, and dropout's
train/eval gap.

Part one: the reference MLP with ten sigmoid hidden layers of width 32 (torch's default init), a
regression target from a fixed random teacher, plain SGD at lr 0.1 for 200 full-batch steps, with
and without batch norm between each Linear and its sigmoid; nothing else differs. Without it the
sigmoid's slope (at most 1/4) shrinks the gradient layer by layer and the loss stays where it
started; with it each layer's pre-activations are re-centred and re-scaled, and the loss falls.
Part two: the same task, two ReLU hidden layers, trained with dropout 0.5 and without; after
training, the loss on the training batch in training mode (units dropped) against evaluation mode
(every unit, no rescaling needed: the dropout is inverted). Without dropout the two modes agree.
"""
import numpy as np

from mlp_ref.model import MLP

DEPTH, WIDTH, D, N = 10, 32, 16, 128
STEPS, LR = 200, 0.1
P = 0.5
CLAIM = ("batch norm lets a 10-layer sigmoid network train (loss below 10% of its start in 200 SGD steps) where "
         "the same network without it stalls (above 90%); dropout 0.5 makes the training-mode loss at least 1.5x "
         "the eval-mode loss on the same data, and without dropout the two are equal")


def task(seed):
    rng = np.random.default_rng(seed + 1)
    teacher = rng.standard_normal((1, D))
    x = rng.standard_normal((N, D))
    return x, np.tanh(x @ teacher.T / 2)


def train(net, x, y, steps=STEPS, lr=LR):
    """Full-batch SGD; the loss before each step."""
    losses = []
    for _ in range(steps):
        losses.append(net.loss(net.forward(x), y))
        net.zero_grad()
        net.backward()
        net.step(lr)
    return losses


def mode_losses(net, x, y):
    """The loss on (x, y) in training mode (a fresh dropout mask) and in evaluation mode."""
    train_loss = net.train().loss(net.forward(x), y)
    eval_loss = net.eval().loss(net.forward(x), y)
    net.train()
    return train_loss, eval_loss


def measure(seed=0):
    x, y = task(seed)
    curves = {}
    for norm in (None, "batch"):
        net = MLP(D, [WIDTH] * DEPTH, 1, f="sigmoid", g="identity", loss="mse", reduction="mean", norm=norm,
                  seed=seed)
        curves["batch norm" if norm else "plain"] = train(net, x, y)
    gaps = {}
    for p in (0.0, P):
        net = MLP(D, [64, 64], 1, f="relu", g="identity", loss="mse", reduction="mean", dropout=p, seed=seed)
        train(net, x, y, lr=0.05)
        gaps[p] = mode_losses(net, x, y)
    return {"curves": curves, "dropout": {str(p): {"train_mode": t, "eval_mode": e} for p, (t, e) in gaps.items()}}


def check(numbers):
    c = numbers["curves"]
    plain = c["plain"][-1] / c["plain"][0]
    bn = c["batch norm"][-1] / c["batch norm"][0]
    drop, none = numbers["dropout"][str(P)], numbers["dropout"]["0.0"]
    gap = drop["train_mode"] / drop["eval_mode"]
    supported = bn < 0.1 and plain > 0.9 and gap >= 1.5 and none["train_mode"] == none["eval_mode"]
    because = (f"final/initial loss: batch norm {bn:.3g}, plain {plain:.3g}; dropout {P}: train-mode/eval-mode loss "
               f"{gap:.3g}; no dropout: {none['train_mode']:.4g} vs {none['eval_mode']:.4g}")
    return supported, because


def table(numbers):
    c = numbers["curves"]
    header = ("10 sigmoid layers / dropout", "loss plain | train mode", "loss batch norm | eval mode")
    rows = [(f"step {t}", c["plain"][t], c["batch norm"][t]) for t in (0, 10, 25, 50, 100, 150, STEPS - 1)]
    for p, v in numbers["dropout"].items():
        rows.append((f"dropout {p}: train / eval mode", v["train_mode"], v["eval_mode"]))
    return header, rows


def plot(numbers, ax):
    for name, curve in numbers["curves"].items():
        ax.semilogy(curve, label=f"10 sigmoid layers, {name}")
    ax.set(xlabel="SGD step", ylabel="training loss (mse mean)", title="batch norm in a deep sigmoid stack")
    ax.legend()
